// Compiled by MSBuild's RoslynCodeTaskFactory at build time (see MLNet.WeightSelection.targets); not part of
// the library assembly.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Marks the GLIBCXX_3.4.32 version need of every libLibTorchSharp.so below <see cref="Directory"/> weak, when the
/// system libstdc++ does not provide that version, or always with <see cref="ForOtherMachines"/>.
/// </summary>
public sealed class WeakenLibTorchSharpGlibcxxNeed : Task
{
    const string LibraryName = "libLibTorchSharp.so";
    const string MissingVersion = "GLIBCXX_3.4.32";
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static readonly string[] SystemLibstdcxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
    };

    [Required] public string Directory { get; set; } = "";

    [Output] public string[] Patched { get; set; } = Array.Empty<string>();

    /// <summary>
    /// The files go to other machines (a tool package), so this machine's libstdc++ says nothing about whether they
    /// need the fix. A weak need changes nothing where the version exists, so patch whatever this machine has.
    /// </summary>
    public bool ForOtherMachines { get; set; }

    public override bool Execute()
    {
        if (!System.IO.Directory.Exists(Directory)) return true;
        string[] libraries = System.IO.Directory.GetFiles(Directory, LibraryName, SearchOption.AllDirectories);
        if (libraries.Length == 0) return true;

        if (!ForOtherMachines && !ThisMachineNeedsFix()) return true;
        return Weaken(libraries);
    }

    bool ThisMachineNeedsFix()
    {
        string? libstdcxx = Array.Find(SystemLibstdcxxCandidates, File.Exists);
        if (libstdcxx == null)
        {
            Log.LogMessage(MessageImportance.Low, "No system libstdc++.so.6 found; leaving {0} as it is.", LibraryName);
            return false;
        }
        if (Contains(File.ReadAllBytes(libstdcxx), Encoding.ASCII.GetBytes(MissingVersion + "\0")))
        {
            Log.LogMessage(MessageImportance.Low, "{0} provides {1}; no fix needed.", libstdcxx, MissingVersion);
            return false;
        }
        return true;
    }

    bool Weaken(string[] libraries)
    {
        var patched = new List<string>();
        foreach (string library in libraries)
        {
            try
            {
                byte[] image = File.ReadAllBytes(library);
                if (!WeakenNeed(image, MissingVersion, out string? problem))
                {
                    if (problem != null) Log.LogWarning("{0}: {1}", library, problem);
                    continue;
                }
                // Write beside, then rename over: a hard link into the NuGet cache (CreateHardLinksForCopyLocalIfPossible)
                // is broken, never written through. File.Copy with overwrite would truncate and write through the link
                // (checked on .NET 10, Linux); File.Replace renames.
                string temporary = library + ".weightselection.tmp";
                File.WriteAllBytes(temporary, image);
                File.Replace(temporary, library, null);
                patched.Add(library);
                Log.LogMessage(MessageImportance.Normal, "Marked the {0} need of {1} weak ({2}).", MissingVersion, library,
                    ForOtherMachines ? "it goes to other machines" : "system libstdc++ lacks it");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                Log.LogWarning("Could not fix {0}: {1}", library, ex.Message);
            }
        }
        Patched = patched.ToArray();
        return !Log.HasLoggedErrors;
    }

    /// <summary>Sets VER_FLG_WEAK on the named Vernaux entry. False when nothing changed.</summary>
    static bool WeakenNeed(byte[] elf, string version, out string? problem)
    {
        problem = null;
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        { problem = "not an ELF file"; return false; }
        if (elf[4] != 2 || elf[5] != 1) { problem = "not a little-endian ELF64 file"; return false; }

        ulong sectionTable = U64(elf, 0x28);
        int sectionSize = U16(elf, 0x3a);
        int sectionCount = U16(elf, 0x3c);
        if (sectionTable == 0 || sectionCount == 0 || sectionTable + (ulong)(sectionSize * sectionCount) > (ulong)elf.Length)
        { problem = "no usable section header table"; return false; }

        for (int s = 0; s < sectionCount; s++)
        {
            int header = checked((int)sectionTable + s * sectionSize);
            if (U32(elf, header + 4) != ShtGnuVerneed) continue;
            int verneed = checked((int)U64(elf, header + 0x18));
            int link = (int)U32(elf, header + 0x28);
            int strtabHeader = checked((int)sectionTable + link * sectionSize);
            int strtab = checked((int)U64(elf, strtabHeader + 0x18));
            int count = (int)U32(elf, header + 0x2c); // sh_info: number of Verneed entries

            int need = verneed;
            for (int n = 0; n < count; n++)
            {
                int auxCount = U16(elf, need + 2);
                int aux = need + (int)U32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    string name = CString(elf, strtab + (int)U32(elf, aux + 8));
                    if (name == version)
                    {
                        ushort flags = U16(elf, aux + 4);
                        if ((flags & VerFlgWeak) != 0) return false; // already weak: idempotent
                        flags |= VerFlgWeak;
                        elf[aux + 4] = (byte)flags;
                        elf[aux + 5] = (byte)(flags >> 8);
                        return true;
                    }
                    aux += (int)U32(elf, aux + 12);
                }
                need += (int)U32(elf, need + 12);
            }
        }
        return false;
    }

    static ushort U16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);
    static uint U32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
    static ulong U64(byte[] b, int o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;

    static string CString(byte[] b, int o)
    {
        int end = o;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, o, end - o);
    }

    static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }
}

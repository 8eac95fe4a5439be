using System.Buffers.Binary;
using System.Text;

namespace MLNet.WeightSelection.TorchSharpCompat;

/// <summary>What the current Linux process has loaded, and the symbol-version needs of an ELF shared library.</summary>
public static class NativeLibraries
{
    const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>
    /// The distinct files mapped into this process (from /proc/self/maps) whose name is <paramref name="fileName"/> or,
    /// for a versioned soname such as <c>libstdc++.so.6</c>, starts with it and a dot (<c>libstdc++.so.6.0.30</c>).
    /// </summary>
    public static IReadOnlyList<string> MappedPaths(string fileName) =>
        File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 6 && IsNamed(Path.GetFileName(fields[5].Trim()), fileName))
            .Select(fields => fields[5].Trim())
            .Distinct(StringComparer.Ordinal)
            .ToList();

    static bool IsNamed(string name, string fileName) =>
        name == fileName || name.StartsWith(fileName + ".", StringComparison.Ordinal);

    /// <summary>Whether an ELF file defines the symbol version <paramref name="version"/> (a libstdc++ offers GLIBCXX_3.4.32, say).</summary>
    public static bool DefinesVersionString(string path, string version)
    {
        byte[] needle = Encoding.ASCII.GetBytes("\0" + version + "\0");
        return File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0;
    }

    /// <summary>
    /// The <c>vna_flags</c> of the version need <paramref name="version"/> in the ELF64 little-endian library at
    /// <paramref name="path"/> (its <c>.gnu.version_r</c> section), or null when the library does not need that version.
    /// Bit 0x2 (VER_FLG_WEAK) tells the loader not to refuse the library when the version is missing.
    /// </summary>
    public static ushort? VersionNeedFlags(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file.");
        long sectionTable = (long)U64(elf, 0x28);
        int entrySize = U16(elf, 0x3A), count = U16(elf, 0x3C);
        for (int i = 0; i < count; i++)
        {
            int header = checked((int)(sectionTable + (long)i * entrySize));
            if (U32(elf, header + 4) != ShtGnuVerneed) continue;
            int needs = (int)U64(elf, header + 24), needCount = (int)U32(elf, header + 44);
            int strings = checked((int)(sectionTable + (long)U32(elf, header + 40) * entrySize));
            int stringTable = (int)U64(elf, strings + 24);
            for (int n = 0, need = needs; n < needCount; n++)
            {
                int auxCount = U16(elf, need + 2);
                for (int a = 0, aux = need + (int)U32(elf, need + 8); a < auxCount; a++)
                {
                    if (CString(elf, stringTable + (int)U32(elf, aux + 8)) == version) return U16(elf, aux + 4);
                    aux += (int)U32(elf, aux + 12);
                }
                need += (int)U32(elf, need + 12);
            }
        }
        return null;
    }

    static ushort U16(byte[] b, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(offset));
    static uint U32(byte[] b, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset));
    static ulong U64(byte[] b, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(offset));

    static string CString(byte[] b, int offset)
    {
        int end = Array.IndexOf(b, (byte)0, offset);
        return Encoding.ASCII.GetString(b, offset, end - offset);
    }
}

using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace MLNet.WeightSelection.TorchSharpCompat;

/// <summary>What <see cref="MemberReferenceScan.Run"/> found: member references into one assembly, and those that did not resolve.</summary>
public sealed class MemberReferenceScanResult
{
    /// <summary>Member references (methods and fields of other assemblies) in the scanned module.</summary>
    public int References { get; init; }

    /// <summary>Those that resolved to a member of the target assembly.</summary>
    public int ResolvedIntoTarget { get; init; }

    /// <summary>References whose parent is an instantiation over the referencing method's own type parameters; the JIT scan covers them.</summary>
    public int NeedGenericContext { get; init; }

    /// <summary>References that did not resolve: the reference as written in metadata, and the runtime's message.</summary>
    public IReadOnlyList<BindingFailure> Failures { get; init; } = Array.Empty<BindingFailure>();
}

/// <summary>
/// Resolves every member reference (the MemberRef table: every method and field an assembly calls in another one)
/// through the runtime's binder, without compiling anything. It checks the same thing as the JIT scan from the other
/// side: a reference counts whether or not a generic instantiation of its caller was compiled.
/// </summary>
public static class MemberReferenceScan
{
    /// <summary>Resolves all member references of <paramref name="assembly"/>; counts those landing in <paramref name="target"/>.</summary>
    public static MemberReferenceScanResult Run(Assembly assembly, Assembly target)
    {
        using var stream = File.OpenRead(assembly.Location);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var module = assembly.ManifestModule;
        int references = 0, intoTarget = 0, needContext = 0;
        var failures = new List<BindingFailure>();
        foreach (var handle in metadata.MemberReferences)
        {
            references++;
            int token = MetadataTokens.GetToken(handle);
            try
            {
                var member = module.ResolveMember(token);
                if (member?.DeclaringType?.Assembly == target) intoTarget++;
            }
            catch (ArgumentException) when (NeedsGenericContext(metadata, handle))
            {
                needContext++;
            }
            catch (Exception e) when (e is MissingMemberException or TypeLoadException or FileNotFoundException)
            {
                failures.Add(new BindingFailure(Written(metadata, handle), e.GetType().Name, e.Message));
            }
        }
        return new MemberReferenceScanResult { References = references, ResolvedIntoTarget = intoTarget, NeedGenericContext = needContext, Failures = failures };
    }

    static bool NeedsGenericContext(MetadataReader metadata, MemberReferenceHandle handle) =>
        metadata.GetMemberReference(handle).Parent.Kind == HandleKind.TypeSpecification;

    /// <summary>The reference as the referencing assembly wrote it: <c>Namespace.Type::name</c>.</summary>
    static string Written(MetadataReader metadata, MemberReferenceHandle handle)
    {
        var reference = metadata.GetMemberReference(handle);
        string parent = reference.Parent.Kind == HandleKind.TypeReference ? TypeName(metadata, (TypeReferenceHandle)reference.Parent) : reference.Parent.Kind.ToString();
        return $"{parent}::{metadata.GetString(reference.Name)}";
    }

    static string TypeName(MetadataReader metadata, TypeReferenceHandle handle)
    {
        var type = metadata.GetTypeReference(handle);
        string name = metadata.GetString(type.Name);
        if (type.ResolutionScope.Kind == HandleKind.TypeReference)
            return $"{TypeName(metadata, (TypeReferenceHandle)type.ResolutionScope)}+{name}";
        string ns = metadata.GetString(type.Namespace);
        return ns.Length == 0 ? name : $"{ns}.{name}";
    }
}

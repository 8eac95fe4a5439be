using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.TorchSharpCompat;

/// <summary>Finds the tensors a module holds whose native handle is gone (disposed), which <c>named_parameters()</c> silently omits.</summary>
public static class DisposedParameters
{
    /// <summary>
    /// Every tensor field of <paramref name="root"/> and of its submodules whose handle is invalid, as
    /// <c>submodule.field</c>. Fields, not <c>named_parameters()</c>: a disposed parameter drops out of that list.
    /// </summary>
    public static IReadOnlyList<string> In(nn.Module root)
    {
        var found = new List<string>();
        foreach (var (name, module) in root.named_modules().Prepend(("", root)))
            for (var type = module.GetType(); type != null && type != typeof(nn.Module); type = type.BaseType)
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                    if (typeof(Tensor).IsAssignableFrom(field.FieldType) && field.GetValue(module) is Tensor { IsInvalid: true })
                        found.Add(name.Length == 0 ? field.Name : $"{name}.{field.Name}");
        return found;
    }
}

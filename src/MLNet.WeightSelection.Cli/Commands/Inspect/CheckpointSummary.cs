using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>What a checkpoint holds: tensors, parameter and buffer counts, element types, family.</summary>
internal sealed record CheckpointSummary(IReadOnlyList<TensorInfo> Tensors, long Parameters, long Buffers,
    IReadOnlyDictionary<string, int> DTypes, string? Family)
{
    // timm's modules register these as buffers, not parameters; everything else in a timm state dict is a parameter.
    static readonly string[] BufferSuffixes = { ".running_mean", ".running_var", ".num_batches_tracked" };

    public static bool IsBuffer(string key) => BufferSuffixes.Any(s => key.EndsWith(s, StringComparison.Ordinal));

    public static CheckpointSummary Of(ITensorSource source)
    {
        var tensors = source.Keys.Select(source.GetInfo).ToList();
        long parameters = tensors.Where(t => !IsBuffer(t.Name)).Sum(t => t.ElementCount);
        long buffers = tensors.Where(t => IsBuffer(t.Name)).Sum(t => t.ElementCount);
        var dtypes = tensors.GroupBy(t => DTypeName(t.DType)).OrderByDescending(g => g.Count())
            .ToDictionary(g => g.Key, g => g.Count());
        return new CheckpointSummary(tensors, parameters, buffers, dtypes, FamilySchemas.Detect(source.Keys)?.Family);
    }

    public static string DTypeName(ScalarType type) => DType.IsSupported(type) ? DType.ToSafeTensors(type) : type.ToString();
}

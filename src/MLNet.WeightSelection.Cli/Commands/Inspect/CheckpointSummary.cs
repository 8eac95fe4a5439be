using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Selection;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Cli.Commands;

/// <summary>What a checkpoint holds: tensor, parameter and buffer counts, element types, family.</summary>
/// <remarks>
/// Made in one pass over the keys, keeping no per-tensor record: a header of a million tensors costs one
/// <see cref="ITensorSource.GetInfo"/> each, and the tensor table asks again only for the rows it shows.
/// </remarks>
internal sealed record CheckpointSummary(int TensorCount, long Parameters, long Buffers,
    IReadOnlyList<KeyValuePair<string, int>> DTypes, string? Family)
{
    // timm's modules register these as buffers, not parameters; everything else in a timm state dict is a parameter.
    static readonly string[] BufferSuffixes = { ".running_mean", ".running_var", ".num_batches_tracked" };

    public static bool IsBuffer(string key) => BufferSuffixes.Any(s => key.EndsWith(s, StringComparison.Ordinal));

    public static CheckpointSummary Of(ITensorSource source)
    {
        long parameters = 0, buffers = 0;
        var dtypes = new Dictionary<ScalarType, int>();
        foreach (var key in source.Keys)
        {
            var info = source.GetInfo(key);
            if (IsBuffer(key)) buffers += info.ElementCount;
            else parameters += info.ElementCount;
            dtypes[info.DType] = dtypes.GetValueOrDefault(info.DType) + 1;
        }
        var byCount = dtypes.OrderByDescending(kv => kv.Value)
            .Select(kv => KeyValuePair.Create(DTypeName(kv.Key), kv.Value)).ToArray();
        return new CheckpointSummary(source.Keys.Count, parameters, buffers, byCount, FamilySchemas.Detect(source.Keys)?.Family);
    }

    public static string DTypeName(ScalarType type) => DType.IsSupported(type) ? DType.ToSafeTensors(type) : type.ToString();
}

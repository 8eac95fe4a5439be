namespace MLNet.WeightSelection.Models;

/// <summary>What a non-strict load skipped (both lists are empty after a strict load).</summary>
/// <param name="MissingKeys">Model keys the checkpoint lacked; those tensors keep their values.</param>
/// <param name="UnexpectedKeys">Checkpoint keys the model lacks; they were ignored.</param>
/// <param name="LoadedKeys">Model keys that were copied from the checkpoint.</param>
public sealed record StateDictLoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys, IReadOnlyList<string> LoadedKeys);

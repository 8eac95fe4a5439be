using MLNet.WeightSelection.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>
/// The resumable state of the last completed epoch in one file: a fingerprint of the options that shape the
/// trajectory, the counters and history, the student's (and feature projection's) parameters and buffers, the best
/// epoch's weights when early stopping keeps them, the optimizer state and the moving average of the weights when
/// EMA is on. Written to a temporary file, then
/// renamed over the previous checkpoint, so a crash never leaves a half-written checkpoint.
/// </summary>
internal static class TrainingCheckpoint
{
    public const string FileName = "training-checkpoint.bin";
    const string Magic = "MLNet.WeightSelection.TrainingCheckpoint";
    /// <summary>Version 2 added the EMA state and the EMA's validation figures; version 1 files (EMA off) still load.</summary>
    const int Version = 2;

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    public static bool Exists(string directory) => File.Exists(PathIn(directory));

    public static void Save(string directory, IReadOnlyDictionary<string, string> fingerprint, TrainingProgress progress,
        nn.Module student, nn.Module? projection, OptimizerHelper optimizer, StateDict? best, ModelEma? ema)
    {
        Directory.CreateDirectory(directory);
        string path = PathIn(directory);
        string temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var writer = new BinaryWriter(stream))
            {
                writer.Write(Magic);
                writer.Write(Version);
                writer.Write(fingerprint.Count);
                foreach (var (key, value) in fingerprint) { writer.Write(key); writer.Write(value); }

                writer.Write(progress.CompletedEpochs);
                writer.Write(progress.GlobalStep);
                writer.Write(progress.BestEpoch);
                writer.Write(progress.BestMetric);
                writer.Write(progress.EpochsWithoutImprovement);
                writer.Write(progress.StoppedEarly);
                writer.Write(progress.Elapsed.Ticks);
                writer.Write(progress.History.Count);
                foreach (var m in progress.History) WriteMetrics(writer, m);

                WriteTensors(writer, student.state_dict());
                writer.Write(projection is not null);
                if (projection is not null) WriteTensors(writer, projection.state_dict());
                writer.Write(best is not null);
                if (best is not null) WriteTensors(writer, best.ToDictionary(kv => kv.Key, kv => kv.Value));
                optimizer.save_state_dict(writer);
                writer.Write(ema is not null);
                if (ema is not null) WriteTensors(writer, ema.State);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Loads the checkpoint in <paramref name="directory"/> into the modules and optimizer, after checking that it was
    /// written with the same fingerprint. Returns the progress and the best epoch's weights (if saved). The moving
    /// average, when this run has one, is loaded into <paramref name="ema"/>.
    /// </summary>
    public static (TrainingProgress Progress, StateDict? Best) Load(string directory, IReadOnlyDictionary<string, string> fingerprint,
        nn.Module student, nn.Module? projection, OptimizerHelper optimizer, ModelEma? ema)
    {
        string path = PathIn(directory);
        var loaded = new List<Dictionary<string, Tensor>>();
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            if (ReadString(reader, path) != Magic)
                throw new InvalidDataException($"{path} is not a training checkpoint of MLNet.WeightSelection.");
            int version = reader.ReadInt32();
            if (version < 1 || version > Version)
                throw new InvalidDataException($"{path} has checkpoint version {version}; this library reads versions 1 to {Version}.");

            int entries = reader.ReadInt32();
            var saved = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < entries; i++) saved[reader.ReadString()] = reader.ReadString();
            CheckFingerprint(path, saved, fingerprint);

            var progress = new TrainingProgress
            {
                CompletedEpochs = reader.ReadInt32(),
                GlobalStep = reader.ReadInt64(),
                BestEpoch = reader.ReadInt32(),
                BestMetric = reader.ReadDouble(),
                EpochsWithoutImprovement = reader.ReadInt32(),
                StoppedEarly = reader.ReadBoolean(),
                Elapsed = TimeSpan.FromTicks(reader.ReadInt64()),
            };
            int history = reader.ReadInt32();
            for (int i = 0; i < history; i++) progress.History.Add(ReadMetrics(reader, version));

            var studentState = ReadTensors(reader, loaded);
            var projectionState = reader.ReadBoolean() ? ReadTensors(reader, loaded) : null;
            var bestState = reader.ReadBoolean() ? ReadTensors(reader, loaded) : null;
            if ((projectionState is null) != (projection is null))
                throw new InvalidDataException($"{path}: the checkpoint {(projectionState is null ? "lacks" : "has")} a feature-distillation projection but this run {(projection is null ? "has none" : "needs one")}.");

            CopyInto(path, "student", student, studentState);
            if (projection is not null) CopyInto(path, "feature projection", projection, projectionState!);
            optimizer.load_state_dict(reader);
            var emaState = version >= 2 && reader.ReadBoolean() ? ReadTensors(reader, loaded) : null;
            if ((emaState is null) != (ema is null))
                throw new InvalidDataException($"{path}: the checkpoint {(emaState is null ? "lacks" : "has")} a moving average of the weights (EMA) but this run {(ema is null ? "has none" : "needs one")}.");
            ema?.Load(emaState!, path);

            StateDict? best = null;
            if (bestState is not null)
            {
                best = new StateDict($"{path} (best epoch)");
                foreach (var (key, value) in bestState) best.Add(key, value.clone());
            }
            return (progress, best);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path} is truncated: the training checkpoint ended early.", e);
        }
        finally
        {
            foreach (var dict in loaded)
                foreach (var t in dict.Values) t.Dispose();
        }
    }

    static string ReadString(BinaryReader reader, string path)
    {
        try { return reader.ReadString(); }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            throw new InvalidDataException($"{path} is not a training checkpoint of MLNet.WeightSelection.", e);
        }
    }

    static void CheckFingerprint(string path, IReadOnlyDictionary<string, string> saved, IReadOnlyDictionary<string, string> current)
    {
        var differences = current.Keys.Union(saved.Keys)
            .Where(k => !saved.TryGetValue(k, out var a) || !current.TryGetValue(k, out var b) || a != b)
            .Select(k => $"{k}: checkpoint '{saved.GetValueOrDefault(k, "(none)")}', now '{current.GetValueOrDefault(k, "(none)")}'")
            .ToList();
        if (differences.Count > 0)
            throw new InvalidOperationException(
                $"The checkpoint {path} was written by a different training setup, so resuming would not reproduce it ({string.Join("; ", differences)}). " +
                "Train with the same options and data to resume, or use another CheckpointDirectory (or delete this one) to start over.");
    }

    static void CopyInto(string path, string what, nn.Module module, Dictionary<string, Tensor> source)
    {
        var target = module.state_dict();
        foreach (var key in target.Keys)
        {
            if (!source.TryGetValue(key, out var value))
                throw new InvalidDataException($"{path}: the {what} state lacks '{key}'.");
            if (value.dtype != target[key].dtype || !value.shape.SequenceEqual(target[key].shape))
                throw new InvalidDataException($"{path}: '{key}' of the {what} is {value.dtype} [{string.Join(", ", value.shape)}] but the model has {target[key].dtype} [{string.Join(", ", target[key].shape)}].");
        }
        foreach (var key in source.Keys)
            if (!target.ContainsKey(key)) throw new InvalidDataException($"{path}: the {what} state has '{key}', which the model lacks.");
        using var _ = no_grad();
        foreach (var (key, t) in target) t.copy_(source[key]);
    }

    static void WriteTensors(BinaryWriter writer, IReadOnlyDictionary<string, Tensor> tensors)
    {
        writer.Write(tensors.Count);
        foreach (var (key, value) in tensors)
        {
            writer.Write(key);
            value.Save(writer);
        }
    }

    static Dictionary<string, Tensor> ReadTensors(BinaryReader reader, List<Dictionary<string, Tensor>> owned)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        owned.Add(result);
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            string key = reader.ReadString();
            result[key] = TensorExtensionMethods.Load(reader);
        }
        return result;
    }

    static void WriteMetrics(BinaryWriter writer, EpochMetrics m)
    {
        writer.Write(m.Epoch);
        writer.Write(m.TrainLoss);
        writer.Write(m.ValidationAccuracy);
        writer.Write(m.ValidationTop5);
        writer.Write(m.ValidationLoss);
        writer.Write(m.LearningRate);
        writer.Write(m.ImagesPerSecond);
        writer.Write(m.Elapsed.Ticks);
        writer.Write(m.DataShare);
        writer.Write(m.EmaValidationAccuracy);
        writer.Write(m.EmaValidationTop5);
        writer.Write(m.EmaValidationLoss);
    }

    static EpochMetrics ReadMetrics(BinaryReader reader, int version)
    {
        var m = new EpochMetrics(
            reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(),
            reader.ReadDouble(), reader.ReadDouble(), TimeSpan.FromTicks(reader.ReadInt64()), reader.ReadDouble());
        return version < 2 ? m : m with
        {
            EmaValidationAccuracy = reader.ReadDouble(),
            EmaValidationTop5 = reader.ReadDouble(),
            EmaValidationLoss = reader.ReadDouble(),
        };
    }
}

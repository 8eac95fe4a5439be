using System.Diagnostics;
using System.Globalization;
using MLNet.WeightSelection.Checkpoints;
using MLNet.WeightSelection.Models;
using MLNet.WeightSelection.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.WeightSelection.Training;

/// <summary>One call of <see cref="ImageClassifierTrainer.Train"/>: the optimizer, schedule, epoch loop and checkpoints.</summary>
internal sealed class TrainingRun : IDisposable
{
    readonly TrainingOptions _options;
    readonly ImageClassifier _student;
    readonly ImageTensorDataset _train;
    readonly ImageTensorDataset? _validation;
    readonly ImageClassifier? _teacher;
    readonly Action<EpochMetrics>? _onEpoch;
    readonly Action<StepProgress>? _onStep;
    readonly Action<string> _log;
    readonly CancellationToken _cancellation;
    readonly Device _device;
    readonly int _stepsPerEpoch;
    readonly CosineSchedule _schedule;
    readonly List<TrainingObjective> _objectives;
    readonly nn.Module? _trainable;
    readonly bool _needsPreLogits;
    readonly AdamW _optimizer;
    readonly BatchAugmenter _augmenter;
    readonly bool _teacherSharesInput;
    readonly Device? _teacherDevice;
    readonly bool _oneDnnSteps;
    readonly ModelEma? _ema;
    StateDict? _best;
    int _teacherFallbacks;

    public TrainingRun(TrainingOptions options, ImageClassifier student, ImageTensorDataset train, ImageTensorDataset? validation,
        ImageClassifier? teacher, Action<EpochMetrics>? onEpoch, Action<StepProgress>? onStep, Action<string>? log, CancellationToken cancellation, bool oneDnnSteps = false)
    {
        _oneDnnSteps = oneDnnSteps;
        _options = options;
        _student = student;
        _train = train;
        _validation = validation;
        _teacher = teacher;
        _onEpoch = onEpoch;
        _onStep = onStep;
        _log = log ?? (_ => { });
        _cancellation = cancellation;
        _device = ImageClassifierTrainer.ModelDevice(student);
        _stepsPerEpoch = StepsPerEpoch(train.Count, options.BatchSize);
        long totalSteps = (long)_stepsPerEpoch * options.Epochs;
        _schedule = new CosineSchedule(options.LearningRate, options.MinLearningRate,
            (long)Math.Round(options.WarmupEpochs * _stepsPerEpoch, MidpointRounding.AwayFromZero), totalSteps);

        // The loss is the sum of the run's objectives: classification always, plus the distillation option's term.
        _objectives = new List<TrainingObjective> { new ClassificationObjective(options.LabelSmoothing) };
        if (options.Distillation?.CreateObjective(student, teacher!, _device, RandomSource.EpochSeed(options.Seed, 0, stream: 2)) is { } distillation)
            _objectives.Add(distillation);
        var trainables = _objectives.Select(o => o.Trainable).OfType<nn.Module>().ToList();
        if (trainables.Count > 1)
            throw new NotSupportedException($"Only one training objective may carry trainable weights; {string.Join(", ", _objectives.Where(o => o.Trainable is not null).Select(o => o.Name))} do.");
        _trainable = trainables.SingleOrDefault();
        _needsPreLogits = _objectives.Any(o => o.NeedsPreLogits);

        var named = student.named_parameters().ToList();
        // The checkpoint and weight-decay names of a distillation projection, kept as they were before objectives.
        if (_trainable is not null) named.AddRange(_trainable.named_parameters().Select(p => ($"distillation_projection.{p.name}", p.parameter)));
        var (decay, noDecay) = WeightDecayGroups.Split(named, student.NoWeightDecay);
        if (decay.Count + noDecay.Count == 0)
            throw new ArgumentException("The student has no trainable parameters.", nameof(student));
        var groups = new List<AdamW.ParamGroup>();
        if (decay.Count > 0) groups.Add(new AdamW.ParamGroup(decay.Select(p => p.Parameter).ToList(), lr: _schedule.LearningRate(0), weight_decay: options.WeightDecay));
        if (noDecay.Count > 0) groups.Add(new AdamW.ParamGroup(noDecay.Select(p => p.Parameter).ToList(), lr: _schedule.LearningRate(0), weight_decay: 0));
        _optimizer = optim.AdamW(groups, lr: options.LearningRate, weight_decay: options.WeightDecay);

        _augmenter = new BatchAugmenter(options.Augmentation, train.NumClasses, options.LabelSmoothing, student.Input);
        _teacherSharesInput = teacher is not null && SameConvention(student.Input, teacher.Input);
        _teacherDevice = teacher is null ? null : ImageClassifierTrainer.ModelDevice(teacher);
        if (options.Ema is not null) _ema = new ModelEma(student, options.Ema);
    }

    /// <summary>Optimizer steps per epoch: every image once, except that a last batch of one image is dropped (BatchNorm needs two).</summary>
    public static int StepsPerEpoch(int count, int batchSize)
    {
        int full = count / batchSize, rest = count % batchSize;
        return full + (rest > 1 || (rest == 1 && full == 0) ? 1 : 0);
    }

    public TrainingResult Run()
    {
        var fingerprint = Fingerprint();
        var progress = new TrainingProgress();
        bool resumed = false;
        string? directory = _options.CheckpointDirectory;
        if (directory is not null && TrainingCheckpoint.Exists(directory))
        {
            (progress, _best) = TrainingCheckpoint.Load(directory, fingerprint, _student, _trainable, _optimizer, _ema);
            resumed = true;
            _log($"Resuming from {TrainingCheckpoint.PathIn(directory)} after epoch {progress.CompletedEpochs} of {_options.Epochs} (step {progress.GlobalStep}).");
        }

        _log(string.Create(CultureInfo.InvariantCulture,
            $"Training {_student.GetType().Name} on {_train.Count} images ({_train.ImageSize} px, {_train.NumClasses} classes), validating on {_validation?.Count ?? 0}: " +
            $"{_options.Epochs} epochs × {_stepsPerEpoch} steps of {_options.BatchSize}, lr {_options.LearningRate:E2}, {get_num_threads()} threads, " +
            $"augmentation [{_options.Augmentation}], distillation {(_options.Distillation?.ToString() ?? "none")}{(_options.Ema is null ? "" : $", EMA [{_options.Ema}]")}."));

        var clock = Stopwatch.StartNew();
        var elapsedBefore = progress.Elapsed;
        while (progress.CompletedEpochs < _options.Epochs && !progress.StoppedEarly)
        {
            int epoch = progress.CompletedEpochs + 1;
            var metrics = RunEpoch(epoch, progress, elapsedBefore + clock.Elapsed);
            Record(metrics, progress);
            if (directory is not null)
                TrainingCheckpoint.Save(directory, fingerprint, progress, _student, _trainable, _optimizer, _best, _ema);
            _log(metrics.ToString());
            _onEpoch?.Invoke(metrics);
            if (progress.StoppedEarly)
                _log($"Early stopping after epoch {epoch}: no improvement for {progress.EpochsWithoutImprovement} epochs; the best epoch is {progress.BestEpoch}.");
        }

        bool restoreBest = _options.EarlyStopping is not null && _best is not null && progress.BestEpoch != progress.CompletedEpochs;
        int keptEpoch = restoreBest ? progress.BestEpoch : progress.CompletedEpochs;
        bool keptEma = _ema is not null && keptEpoch > 0 && progress.History[keptEpoch - 1].EmaIsBetter;
        if (restoreBest)
        {
            RestoreBest();
            _log($"Restored the {(keptEma ? "EMA" : "live")} weights of epoch {progress.BestEpoch}.");
        }
        else if (keptEma)
        {
            _ema!.CopyTo(_student);
            _log($"Kept the EMA weights of epoch {keptEpoch}, which scored better on validation than the live ones.");
        }
        return new TrainingResult(progress.History.ToArray(), progress.BestEpoch, progress.StoppedEarly, resumed, keptEma);
    }

    EpochMetrics RunEpoch(int epoch, TrainingProgress progress, TimeSpan elapsedAtStart)
    {
        var clock = Stopwatch.StartNew();
        // Reseeding from (Seed, epoch) makes every epoch's shuffle, augmentation, dropout and drop path the same
        // whether the run was interrupted and resumed or not.
        using var generator = new Generator((ulong)RandomSource.EpochSeed(_options.Seed, epoch));
        manual_seed(RandomSource.EpochSeed(_options.Seed, epoch, stream: 1));
        var random = new RandomSource(generator);
        _student.train();
        _trainable?.train();
        _teacher?.eval();

        using var order = randperm(_train.Count, generator: generator);
        using var batches = new BatchPrefetcher(_train, order, _options.BatchSize, _stepsPerEpoch, BatchPrefetcher.Enabled);
        double lossSum = 0, lr = 0;
        long images = 0;
        var dataTime = TimeSpan.Zero;
        var stepTime = new Stopwatch();
        for (int step = 0; step < _stepsPerEpoch; step++)
        {
            if (_cancellation.IsCancellationRequested) throw Cancelled(epoch, step + 1, progress);
            stepTime.Start();
            var dataStart = stepTime.Elapsed;
            using var scope = NewDisposeScope();
            int length = batches.Length(step);
            var (rowImages, rowLabels) = batches.Next();
            using var ownedImages = rowImages;
            using var ownedLabels = rowLabels;
            var labels = rowLabels.to(_device);
            using var batch = _augmenter.Apply(rowImages.to(_device), labels, random);
            var input = InputNormalization.Apply(batch.Pixels, _student.Input);
            Tensor? teacherInput = _teacher is null ? null
                : (_teacherSharesInput ? input : InputNormalization.Apply(batch.Pixels, _teacher.Input)).to(_teacherDevice!);
            dataTime += stepTime.Elapsed - dataStart;

            lr = _schedule.LearningRate(progress.GlobalStep);
            foreach (var group in _optimizer.ParamGroups) group.LearningRate = lr;
            double value;
            using (NativeRuntimePolicy.OneDnnForTrainingStep(_oneDnnSteps))
            {
                var loss = Loss(input, labels, batch.SoftTargets, teacherInput);
                value = loss.item<float>();
                if (!double.IsFinite(value)) throw new TrainingDivergedException(epoch, step + 1, _stepsPerEpoch, value, lr);
                loss.backward();
                _optimizer.step();
            }
            _student.zero_grad();
            _trainable?.zero_grad();
            progress.GlobalStep++;
            _ema?.Update(_student, progress.GlobalStep);
            if (progress.GlobalStep % 8 == 0) NativeRuntimePolicy.ReleaseFreeMemory();
            lossSum += value;
            images += length;
            stepTime.Stop();
            _onStep?.Invoke(new StepProgress(epoch, step + 1, _stepsPerEpoch, value, lr));
        }

        var validation = _validation is null ? null
            : ImageClassifierTrainer.Evaluate(_student, _validation, Math.Max(_options.BatchSize, 256), _cancellation);
        var emaValidation = _ema is null || _validation is null ? null : EvaluateEma(_validation);
        double seconds = stepTime.Elapsed.TotalSeconds;
        return new EpochMetrics(
            epoch,
            lossSum / _stepsPerEpoch,
            validation?.Accuracy ?? double.NaN,
            validation?.Top5Accuracy ?? double.NaN,
            validation?.Loss ?? double.NaN,
            lr,
            seconds > 0 ? images / seconds : double.NaN,
            elapsedAtStart + clock.Elapsed,
            seconds > 0 ? dataTime.TotalSeconds / seconds : double.NaN,
            emaValidation?.Accuracy ?? double.NaN,
            emaValidation?.Top5Accuracy ?? double.NaN,
            emaValidation?.Loss ?? double.NaN);
    }

    /// <summary>Scores the EMA weights by swapping them into the student for the evaluation, then swapping back.</summary>
    EvaluationMetrics EvaluateEma(ImageTensorDataset validation)
    {
        _ema!.SwapWith(_student);
        try
        {
            return ImageClassifierTrainer.Evaluate(_student, validation, Math.Max(_options.BatchSize, 256), _cancellation);
        }
        finally
        {
            _ema.SwapWith(_student);
        }
    }

    Tensor Loss(Tensor input, Tensor labels, Tensor? softTargets, Tensor? teacherInput)
    {
        Tensor logits;
        Tensor? preLogits = null;
        if (_needsPreLogits)
        {
            var features = _student.ForwardFeatures(input);
            preLogits = _student.ForwardHead(features, preLogits: true);
            logits = _student.ForwardHead(features);
        }
        else
        {
            logits = _student.forward(input);
        }
        var inputs = new ObjectiveInputs(logits, preLogits, labels, softTargets, teacherInput, _teacher is null ? null : TeacherForward);
        Tensor? loss = null;
        foreach (var objective in _objectives)
        {
            var term = objective.Loss(inputs);
            loss = loss is null ? term : loss.add(term);
        }
        return loss!;
    }

    /// <summary>
    /// The teacher's eval-mode forward for distillation. When training steps use oneDNN it runs through oneDNN too:
    /// 5.2× faster than ATen's convolution for a ResNet-18 teacher at 56 px (bench/bench.sh check-kd-forward, equal
    /// logits within 1e-7). oneDNN's eval forward can return NaN after a training step (Runtime/OneDnnConvolutions.cs), so a
    /// result that is not finite is computed again through ATen; a distillation target tolerates the small
    /// differences oneDNN may have otherwise.
    /// </summary>
    Tensor TeacherForward(Func<ImageClassifier, Tensor> forward)
    {
        using var _ = no_grad();
        if (_oneDnnSteps)
        {
            Tensor fast;
            using (NativeRuntimePolicy.OneDnnForTrainingStep(true)) fast = forward(_teacher!);
            if (fast.isfinite().all().item<bool>()) return fast.to(_device);
            _teacherFallbacks++;
            if (_teacherFallbacks == 1) _log("oneDNN gave the distillation teacher non-finite outputs; that batch's teacher forward was computed again through ATen.");
        }
        using (NativeRuntimePolicy.AtenConvolutions())
            return forward(_teacher!).to(_device);
    }

    void Record(EpochMetrics metrics, TrainingProgress progress)
    {
        progress.History.Add(metrics);
        progress.CompletedEpochs = metrics.Epoch;
        progress.Elapsed = metrics.Elapsed;
        bool byAccuracy = _validation is not null;
        double value = byAccuracy ? metrics.BestValidationAccuracy : metrics.TrainLoss;
        double minDelta = _options.EarlyStopping?.MinDelta ?? 0;
        bool improved = progress.BestEpoch == 0
            || (byAccuracy ? value > progress.BestMetric + minDelta : value < progress.BestMetric - minDelta);
        if (improved)
        {
            progress.BestEpoch = metrics.Epoch;
            progress.BestMetric = value;
            progress.EpochsWithoutImprovement = 0;
            if (_options.EarlyStopping is not null)
            {
                _best?.Dispose();
                _best = _ema is not null && metrics.EmaIsBetter ? _ema.Snapshot("best epoch (EMA)") : StateDict.FromModule(_student, "best epoch");
            }
        }
        else
        {
            progress.EpochsWithoutImprovement++;
            if (_options.EarlyStopping is { } stopping && progress.EpochsWithoutImprovement >= stopping.Patience
                && progress.CompletedEpochs < _options.Epochs)
                progress.StoppedEarly = true;
        }
    }

    void RestoreBest()
    {
        using var _ = no_grad();
        foreach (var (key, tensor) in _student.state_dict())
            tensor.copy_(_best![key]);
    }

    OperationCanceledException Cancelled(int epoch, int step, TrainingProgress progress)
    {
        string saved = _options.CheckpointDirectory is null
            ? "No CheckpointDirectory was set, so no progress was saved."
            : progress.CompletedEpochs == 0
                ? "No epoch had completed, so no checkpoint was written."
                : $"The last completed epoch ({progress.CompletedEpochs}) is saved in {TrainingCheckpoint.PathIn(_options.CheckpointDirectory)}; train again with the same CheckpointDirectory to resume.";
        return new OperationCanceledException($"Training was cancelled before step {step} of {_stepsPerEpoch} in epoch {epoch}. {saved}", _cancellation);
    }

    /// <summary>Everything that shapes the trajectory: a checkpoint resumes only when all of it matches.</summary>
    Dictionary<string, string> Fingerprint()
    {
        var o = _options;
        string F(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        var fingerprint = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Seed"] = o.Seed.ToString(CultureInfo.InvariantCulture),
            ["Epochs"] = o.Epochs.ToString(CultureInfo.InvariantCulture),
            ["BatchSize"] = o.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["LearningRate"] = F(o.LearningRate),
            ["MinLearningRate"] = F(o.MinLearningRate),
            ["WeightDecay"] = F(o.WeightDecay),
            ["WarmupEpochs"] = F(o.WarmupEpochs),
            ["LabelSmoothing"] = F(o.LabelSmoothing),
            ["Augmentation"] = o.Augmentation.ToString(),
            ["Distillation"] = o.Distillation?.ToString() ?? "none",
            ["EarlyStopping"] = o.EarlyStopping is { } e ? $"patience={e.Patience} minDelta={F(e.MinDelta)}" : "none",
            ["Student"] = $"{_student.GetType().FullName} ({_student.parameters().Sum(p => p.numel())} parameters)",
            ["TrainingData"] = $"{_train.Count} images, {_train.ImageSize} px, {_train.NumClasses} classes",
            ["ValidationData"] = _validation is null ? "none" : $"{_validation.Count} images",
        };
        // Added only when on, so that checkpoints written before EMA existed still resume with EMA off.
        if (o.Ema is not null) fingerprint["Ema"] = o.Ema.ToString();
        return fingerprint;
    }

    static bool SameConvention(InputConvention a, InputConvention b) =>
        a.Order == b.Order && a.Scale == b.Scale && a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std);

    public void Dispose()
    {
        _optimizer.Dispose();
        foreach (var objective in _objectives) objective.Dispose();
        _best?.Dispose();
        _ema?.Dispose();
    }
}

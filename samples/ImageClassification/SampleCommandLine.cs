using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Spectre.Console;

namespace ImageClassification;

/// <summary>
/// The sample's command line (System.CommandLine). A usage error or a failure prints one line on stderr and returns a
/// non-zero exit code: <see cref="UsageError"/> for bad arguments, <see cref="RunFailed"/> when the run fails.
/// </summary>
public static class SampleCommandLine
{
    /// <summary>Exit code of a finished run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when the run failed (unreadable data, teacher and student that do not fit, ...).</summary>
    public const int RunFailed = 1;

    /// <summary>Exit code of a bad command line.</summary>
    public const int UsageError = 2;

    /// <summary>Parses <paramref name="args"/>, runs the sample and returns the exit code.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="stdout">Progress and results.</param>
    /// <param name="stderr">The one-line error, if any.</param>
    /// <param name="interactive">True when <paramref name="stdout"/> is a terminal: colours and live progress bars.</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool interactive)
    {
        var definition = new Definition();
        var parsed = definition.Root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine($"ImageClassification: error: {UsageErrors(parsed)}. See --help.");
            return UsageError;
        }
        SampleOptions? options = null;
        definition.Root.SetAction(result => options = definition.ToOptions(result));
        int code = parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        if (options is null) return code; // --help or --version
        try
        {
            SampleApp.Run(options, CreateConsole(stdout, interactive), interactive);
            return Success;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            stderr.WriteLine($"ImageClassification: error: {OneLine(e)}");
            if (Environment.GetEnvironmentVariable("SAMPLE_DEBUG") == "1") stderr.WriteLine(e);
            return RunFailed;
        }
    }

    /// <summary>Parses <paramref name="args"/> into options, or returns the one-line usage error.</summary>
    public static (SampleOptions? Options, string? Error) Parse(string[] args)
    {
        var definition = new Definition();
        var parsed = definition.Root.Parse(args);
        return parsed.Errors.Count > 0
            ? (null, UsageErrors(parsed))
            : (definition.ToOptions(parsed), null);
    }

    /// <summary>Every parse error on one line (System.CommandLine's own messages may span lines).</summary>
    static string UsageErrors(ParseResult parsed) =>
        string.Join("; ", parsed.Errors.Select(e => string.Join(" ",
            e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.')));

    static IAnsiConsole CreateConsole(TextWriter output, bool interactive)
    {
        if (interactive) return AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 160;
        return console;
    }

    /// <summary>The exception's message and its causes' on one line.</summary>
    internal static string OneLine(Exception e)
    {
        var parts = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
        {
            string message = string.Join(" ", current.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            if (!parts.Contains(message)) parts.Add(message);
        }
        string line = string.Join(": ", parts);
        return line.Length <= 1000 ? line : line[..999] + "…";
    }

    static bool IsOnnx(string path) => Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>The options and the root command, with their checks.</summary>
    sealed class Definition
    {
        readonly Option<string?> _data = new("--data")
        {
            Description = "ImageFolder to train on: train/<class>/*.png and test/<class>/*.png, or just <class>/ folders "
                + $"(then {SampleOptions.TestFraction:P0} of each class is held out as test). Default: the bundled fashion-mnist-mini.",
        };
        readonly Option<string?> _teacher = new("--teacher")
        {
            Description = "Teacher checkpoint: a timm checkpoint (.safetensors, .pt/.pth/.bin) with --teacher-arch, or an ONNX ResNet. "
                + "Default: ML.NET's ImageNet ResNet-18 (package Microsoft.ML.DnnImageFeaturizer.ResNet18).",
        };
        readonly Option<string?> _teacherArch = new("--teacher-arch")
        {
            Description = "The teacher's architecture: a preset (e.g. resnet50, vit_small_patch16_224), inline JSON or a .json spec. Required with a non-ONNX --teacher.",
        };
        readonly Option<string> _student = new("--student")
        {
            Description = "The student's architecture, of the teacher's family: preset, inline JSON or .json spec.",
            DefaultValueFactory = _ => SampleOptions.DefaultStudent,
        };
        readonly Option<int> _epochs = IntOption("--epochs",
            $"Passes over the training data (both runs). Default: {SampleOptions.DefaultEpochs}, set by the sample: the library's fitted recipe "
            + "would choose more (each run's recipe line names its choice), and the sample caps it so that both runs finish within "
            + "5 minutes on 2 cores.",
            SampleOptions.DefaultEpochs, min: 1, max: 100_000);
        readonly Option<int?> _imageSize = NullableIntOption("--image-size",
            "Side of the square images the students see, in pixels (time grows with its square). Default: fitted to the images' "
            + "own side and the architecture (28 px images train at 56 px).",
            min: 8, max: 1024);
        readonly Option<string> _distill = new("--distill")
        {
            Description = "Knowledge distillation from the teacher: fitted (logits of the adapted teacher for weight selection, none for "
                + "random init, which has no adapted teacher), none, logits (both runs; random init distills the teacher as given, whose "
                + "classifier must then have the data's classes) or features (both runs).",
            DefaultValueFactory = _ => "fitted",
        };
        readonly Option<bool> _noAdaptTeacher = new("--no-adapt-teacher")
        {
            Description = "Select the weight-selection student from the teacher as given. Default: the ImageNet teacher (made for 224 px) is "
                + "first fine-tuned on the training images at the student's image size with its classifier reset to the data's classes (a "
                + "sixth of the student's epochs); the student is selected from it and distills its logits.",
        };
        readonly Option<string> _out = new("--out")
        {
            Description = "Output folder for model.zip, student.onnx, accuracy.png and results.json.",
            DefaultValueFactory = _ => "out",
        };
        readonly Option<int> _seed = IntOption("--seed", "Seed of both runs: initialization, validation split, shuffling, augmentation.",
            1, min: int.MinValue, max: int.MaxValue);

        public Definition()
        {
            _distill.AcceptOnlyFromAmong("fitted", "none", "logits", "features");
            _data.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<string?>() is { } data && !Directory.Exists(data)) r.AddError($"--data folder '{data}' does not exist");
            });
            _teacher.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<string?>() is { } teacher && !File.Exists(teacher)) r.AddError($"--teacher file '{teacher}' does not exist");
            });
            _student.Validators.Add(r =>
            {
                if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>())) r.AddError("--student must name an architecture");
            });
            _out.Validators.Add(r =>
            {
                if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>())) r.AddError("--out must name a folder");
            });
            Root = new RootCommand(
                "Trains two students with the same recipe and seed, one initialized from a larger teacher by weight selection "
                + "(Xu et al., ICLR 2024) and one from random init, and compares them. What is not set here is fitted to the data by "
                + "the library's recipe and printed.")
            {
                _data, _teacher, _teacherArch, _student, _epochs, _imageSize, _distill, _noAdaptTeacher, _out, _seed,
            };
            Root.Validators.Add(ValidateTogether);
        }

        public RootCommand Root { get; }

        /// <summary>An integer option whose parser reports a non-number or a value out of range as its one error.</summary>
        static Option<int> IntOption(string name, string description, int defaultValue, int min, int max) => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                    result.AddError($"{name} must be an integer; got '{text}'");
                else if (value < min)
                    result.AddError(max == int.MaxValue ? $"{name} must be at least {min}; got {value}" : $"{name} must be between {min} and {max}; got {value}");
                else if (value > max)
                    result.AddError($"{name} must be between {min} and {max}; got {value}");
                return value;
            },
        };

        /// <summary>An optional integer option: absent gives null (fitted); present, it is checked like <see cref="IntOption"/>.</summary>
        static Option<int?> NullableIntOption(string name, string description, int min, int max) => new(name)
        {
            Description = description,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                    result.AddError($"{name} must be an integer; got '{text}'");
                else if (value < min || value > max)
                    result.AddError($"{name} must be between {min} and {max}; got {value}");
                return value;
            },
        };

        public SampleOptions ToOptions(ParseResult result) => new()
        {
            DataDirectory = result.GetValue(_data),
            TeacherCheckpoint = result.GetValue(_teacher),
            TeacherArchitecture = result.GetValue(_teacherArch),
            Student = result.GetValue(_student)!,
            Epochs = result.GetValue(_epochs),
            ImageSize = result.GetValue(_imageSize),
            Distill = Enum.Parse<DistillMode>(result.GetValue(_distill)!, ignoreCase: true),
            NoAdaptTeacher = result.GetValue(_noAdaptTeacher),
            OutputDirectory = result.GetValue(_out)!,
            Seed = result.GetValue(_seed),
        };

        /// <summary>Checks between options (single-option checks sit on the options).</summary>
        void ValidateTogether(CommandResult result)
        {
            string? teacher = result.GetValue(_teacher), arch = result.GetValue(_teacherArch);
            if (teacher is null && arch is not null)
                result.AddError("--teacher-arch needs --teacher (the default teacher is ONNX and needs no architecture)");
            if (teacher is not null && File.Exists(teacher) && !IsOnnx(teacher) && string.IsNullOrWhiteSpace(arch))
                result.AddError($"--teacher '{teacher}' is not ONNX, so --teacher-arch must name its architecture (e.g. resnet50)");
            // Caught here rather than by the library when the second run starts, minutes later: random init has no adapted
            // teacher, and the default teacher's classifier has ImageNet's classes, never the data's.
            // The token, not GetValue: a value outside the accepted ones makes GetValue throw instead of reporting.
            if (teacher is null && result.GetResult(_distill) is { Tokens: [.., { Value: "logits" }] })
                result.AddError("--distill logits applies to both runs, and random init distills the teacher as given: the default teacher's "
                    + "classifier has ImageNet's 1,000 classes, not the data's. Use --distill fitted (logits of the adapted teacher for weight "
                    + "selection only), features, or a --teacher fine-tuned on these classes");
        }
    }
}

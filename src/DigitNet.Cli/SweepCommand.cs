using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using DigitNet.Cli.Plotting;
using DigitNet.Data;
using DigitNet.Experiments;
using DigitNet.Serialization;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>
/// <c>digitnet sweep</c>: runs the trials of a sweep or suite configuration in parallel, appends
/// each result to a JSON-lines file, resumes from that file, and renders the Markdown report and
/// PNG figures. <c>digitnet sweep merge</c> combines the results files of shards into one report.
/// </summary>
public static class SweepCommand
{
    /// <summary>Exit code after SIGINT or SIGTERM, as shells report a process ended by SIGINT.</summary>
    public const int InterruptedExitCode = 130;

    private const string ResultsFileName = "results.jsonl";
    private const string ReportFileName = "report.md";
    private static readonly HashSet<string> Flags = ["help", "quiet", "dry-run"];

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count > 0 && args[0] == "merge") return Merge(args.Skip(1).ToList());

        var line = CommandLine.Parse(args, Flags);
        if (line.TakeFlag("help"))
        {
            Console.Out.Write(Help());
            return 0;
        }
        bool quiet = line.TakeFlag("quiet");
        bool dryRun = line.TakeFlag("dry-run");
        string configPath = line.TakeRequiredPath("config", "FILE.json");
        string? outFolder = line.TakePath("out", "folder");
        int threadsPerTrial = line.TakeInt("threads-per-trial", 1, minimum: 1, maximum: TrainingOptionTable.MaxThreads);
        int jobs = line.TakeInt("jobs", Math.Max(1, Environment.ProcessorCount / threadsPerTrial), minimum: 1, maximum: 1024);
        string? shardText = line.Take("shard");
        string? dataOption = line.TakePath("data");
        var output = ReadOutputOptions(line, outFolder);
        line.RejectRemaining("sweep", []);
        if (line.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{line.Positionals[0]}'; sweep takes only options (did you mean 'digitnet sweep merge'?)");

        CheckConfig(configPath);
        var suite = SweepConfigReader.ReadFile(configPath);
        var plan = SweepPlan.Create(suite, threadsPerTrial);
        var (shard, shards) = shardText is null ? (0, 1) : ParseShard(shardText);
        bool sharded = shardText is not null;
        if (sharded && output.Doc is not null)
            throw new UsageException("--doc cannot be used with --shard: a shard has only part of the results; pass --doc to 'digitnet sweep merge'");
        var selected = plan.Shard(shard, shards);

        if (dryRun)
        {
            PrintTrials(plan, selected);
            return 0;
        }
        // A dry run writes nothing, so only a real run needs the folder.
        if (outFolder is null) throw CommandLine.MissingRequired("sweep", "--out DIR");
        CheckFolders(outFolder, output);

        string dataPath = DataLocator.Resolve(dataOption);
        string resultsPath = Path.Combine(outFolder, sharded ? $"results.shard-{shard}-of-{shards}.jsonl" : ResultsFileName);
        var inputs = ConfigFiles(configPath, suite).Append((FileChecks.DataLabel(dataOption), dataPath)).ToList();
        CheckOutputsDistinct(inputs, resultsPath, sharded ? [] : ReportFiles(suite, outFolder, output), output.Doc);
        Directory.CreateDirectory(outFolder);
        CheckOutputFile(resultsPath);
        CheckOutputFile(Path.Combine(outFolder, ReportFileName));
        CheckResultsFileAccess(resultsPath);
        var existing = ReadResults(resultsPath, repair: true);
        var done = existing.Records.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var pending = selected.Where(t => !done.Contains(t.Id)).ToList();

        int jobsUsed = Math.Min(jobs, Math.Max(1, pending.Count));
        Console.Out.WriteLine(Invariant($"sweep {suite.Name}: {Count(plan.Trials.Count, "trial")}{(sharded ? $", shard {shard}/{shards} has {selected.Count}" : "")}; {selected.Count - pending.Count} already in {resultsPath}, {pending.Count} to run with {Count(jobsUsed, "job")} x {Count(threadsPerTrial, "thread")}"));
        if (existing.TornLine) Diagnostics.Note("sweep", $"removed an incomplete last line from {resultsPath} (a run was stopped while writing); that trial runs again");

        if (pending.Count > 0)
        {
            var data = DigitsMat.Load(dataPath);
            CheckTrials(plan, pending, data);
            bool completed = RunTrials(plan, pending, data, resultsPath, jobs, quiet);
            if (!completed) return InterruptedExitCode;
        }

        if (sharded)
        {
            Console.Out.WriteLine($"shard {shard}/{shards} done; combine the shards with: digitnet sweep merge --config {configPath} --out DIR {Path.Combine(outFolder, "results.shard-*.jsonl")}");
            return 0;
        }
        var records = ReadResults(resultsPath, repair: false).Records;
        WriteReport(plan, records, outFolder, output);
        return 0;
    }

    /// <summary><c>digitnet sweep merge</c>: combines results files (of shards or earlier runs) into one results file and report.</summary>
    private static int Merge(IReadOnlyList<string> args)
    {
        var line = CommandLine.Parse(args, new HashSet<string> { "help" });
        if (line.TakeFlag("help"))
        {
            Console.Out.Write(Help());
            return 0;
        }
        string configPath = line.TakeRequiredPath("config", "FILE.json");
        string outFolder = line.TakeRequiredPath("out", "DIR", "folder");
        int threadsPerTrial = line.TakeInt("threads-per-trial", 1, minimum: 1, maximum: TrainingOptionTable.MaxThreads);
        var output = ReadOutputOptions(line, outFolder);
        line.RejectRemaining("sweep merge", []);
        if (line.Positionals.Count == 0)
            throw new UsageException("give the results files to merge, e.g. digitnet sweep merge --config sweep.json --out DIR shard-*/results*.jsonl");

        CheckFolders(outFolder, output);
        CheckConfig(configPath);
        var suite = SweepConfigReader.ReadFile(configPath);
        var plan = SweepPlan.Create(suite, threadsPerTrial);
        foreach (string path in line.Positionals)
            FileChecks.CheckReadable("results file", path);

        // The merged results file may replace one of the results files, because every input is
        // read before writing. No other output may replace an input.
        var configFiles = ConfigFiles(configPath, suite);
        string mergedPath = Path.Combine(outFolder, ResultsFileName);
        FileChecks.CheckNotInput(("--out", mergedPath), output.Doc is null ? configFiles : [.. configFiles, ("--doc", output.Doc)]);
        var inputs = configFiles.Concat(line.Positionals.Select(path => ("results file", path))).ToList();
        CheckOutputsDistinct(inputs, resultsPath: null, ReportFiles(suite, outFolder, output), output.Doc);

        var byId = new Dictionary<string, TrialRecord>(StringComparer.Ordinal);
        foreach (string path in line.Positionals)
        {
            var content = ReadResults(path, repair: false);
            if (content.TornLine) Diagnostics.Note("sweep", $"{path} ends in an incomplete line (a run was stopped while writing); it was skipped");
            foreach (var record in content.Records) byId.TryAdd(record.Id, record);
        }

        // Trials of the plan come first in plan order, so the merged file does not depend on the order of the inputs.
        var ordered = plan.Trials.Select(t => byId.GetValueOrDefault(t.Id)).OfType<TrialRecord>().ToList();
        var planIds = plan.Trials.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var others = byId.Values.Where(r => !planIds.Contains(r.Id)).ToList();
        Directory.CreateDirectory(outFolder);
        CheckOutputFile(Path.Combine(outFolder, ReportFileName));
        AtomicFile.WriteAllText(mergedPath, ResultsFile.Format(ordered.Concat(others)));
        Console.Out.WriteLine(Invariant($"merged {Count(line.Positionals.Count, "file")}: {ordered.Count} of {Count(plan.Trials.Count, "trial")} of {suite.Name}{(others.Count > 0 ? $", plus {Count(others.Count, "record")} of other settings kept but not reported" : "")}"));

        WriteReport(plan, ordered, outFolder, output);
        return 0;
    }

    /// <summary>
    /// Where figures go and which document receives the tables. <paramref name="ImagesOption"/> is
    /// the option that chose the figures' folder: --images, or --out by default.
    /// </summary>
    private sealed record OutputOptions(string Images, string ImagesOption, string? Doc);

    private static OutputOptions ReadOutputOptions(CommandLine line, string? outFolder)
    {
        string? images = line.TakePath("images");
        string? doc = line.TakePath("doc");
        if (doc is not null)
            FileChecks.CheckReadable("--doc", doc);
        return new OutputOptions(images ?? outFolder ?? ".", images is null ? "--out" : "--images", doc);
    }

    /// <summary>Rejects a missing, unreadable or empty --config file with the messages of every other input file.</summary>
    private static void CheckConfig(string path) => FileChecks.CheckInput("--config", path, "a JSON sweep configuration");

    /// <summary>Returns the configuration files that <paramref name="suite"/> was read from, with the labels that messages name them by.</summary>
    private static List<(string Label, string Path)> ConfigFiles(string configPath, SweepSuite suite) =>
        [("--config", configPath), .. suite.Files.Skip(1).Select((path, index) => ($"{configPath}: sweeps[{index}]", path))];

    /// <summary>Returns report.md and the figures of every sweep, which the report writes, with the options that place them.</summary>
    private static List<(string Label, string Path)> ReportFiles(SweepSuite suite, string outFolder, OutputOptions output)
    {
        var files = new List<(string Label, string Path)> { ("--out", Path.Combine(outFolder, ReportFileName)) };
        foreach (var sweep in suite.Sweeps)
        {
            var (metric, accuracyCurves, lossCurves) = SweepPlots.FigurePaths(sweep, output.Images);
            files.AddRange([(output.ImagesOption, metric), (output.ImagesOption, accuracyCurves), (output.ImagesOption, lossCurves)]);
        }
        return files;
    }

    /// <summary>
    /// Rejects, before any trial runs, a results file (when <paramref name="resultsPath"/> is given),
    /// report file or --doc file that names one of <paramref name="inputs"/>, and a results or report
    /// file that names the --doc file, because writing it would replace that file.
    /// </summary>
    private static void CheckOutputsDistinct(List<(string Label, string Path)> inputs, string? resultsPath,
        List<(string Label, string Path)> reportFiles, string? doc)
    {
        var inputsAndDoc = doc is null ? inputs : [.. inputs, ("--doc", doc)];
        if (resultsPath is not null)
            FileChecks.CheckNotInput(("--out", resultsPath), inputsAndDoc);
        foreach (var file in reportFiles)
            FileChecks.CheckNotInput(file, inputsAndDoc);
        if (doc is not null)
            FileChecks.CheckNotInput(("--doc", doc), inputs);
    }

    /// <summary>
    /// Rejects, before any trial runs, an --out or --images path that exists but is not a folder,
    /// and a folder that cannot be written or created. The folder of the --doc file must be
    /// writable too, because the updated document replaces it as a new file.
    /// </summary>
    private static void CheckFolders(string outFolder, OutputOptions output)
    {
        CheckFolder(outFolder, "--out", "results.jsonl, report.md and the figures");
        CheckFolder(output.Images, output.ImagesOption, "the PNG figures");
        if (output.Doc is not null)
            FileChecks.CheckWritableFolder(Path.GetDirectoryName(Path.GetFullPath(output.Doc)) ?? ".", "--doc");
    }

    private static void CheckFolder(string path, string option, string contents)
    {
        if (!Directory.Exists(path) && Path.Exists(path))
        {
            string example = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "sweep-out";
            throw new UsageException($"{option}: {path} is a file, but {option} takes a folder for {contents}; give a folder such as {example}");
        }
        FileChecks.CheckWritableFolder(path, option);
    }

    /// <summary>
    /// Rejects an existing results file that cannot be read or appended to, with the permission
    /// messages of every other file, before any trial runs. A missing one is created in the checked --out folder.
    /// </summary>
    private static void CheckResultsFileAccess(string path)
    {
        if (!Path.Exists(path)) return;
        FileChecks.CheckReadable("--out", path);
        FileChecks.CheckAppendable("--out", path);
    }

    /// <summary>
    /// Rejects a results or report file in the --out folder that is a FIFO, device or socket before
    /// any trial runs. Reading a FIFO would wait for a writer, and the final rename would replace it.
    /// </summary>
    private static void CheckOutputFile(string path)
    {
        try
        {
            OutputFile.ResolveTarget(path);
        }
        catch (IOException e)
        {
            throw new UsageException($"--out: {e.Message}");
        }
    }

    private static (int Shard, int Shards) ParseShard(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int shard)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int shards)
            && shards >= 1 && shard < shards)
        {
            return (shard, shards);
        }
        throw new UsageException($"--shard: invalid value '{text}'; expected i/n with 0 <= i < n, e.g. 0/3, 1/3 and 2/3 for three shards");
    }

    private static ResultsContent ReadResults(string path, bool repair)
    {
        try
        {
            return ResultsFile.Read(path, repair);
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>
    /// Fails on the first trial whose settings fail a check of training, or whose augmentation
    /// cannot be built, before any trial runs. The message identifies the trial as
    /// <see cref="Identify"/> does.
    /// </summary>
    private static void CheckTrials(SweepPlan plan, IReadOnlyList<SweepTrial> trials, DataSplits data)
    {
        TrialRunner.CheckNetworks(trials, data.Train.SampleShape, data.Train.ClassCount, data.Train.Count, trial => Describe(plan, trial));

        // Building an augmentation depends only on its settings and the scaling, so each pair is built once.
        var checkedSettings = new HashSet<(string Augment, string Scaling)>();
        foreach (var trial in trials)
        {
            foreach (var options in trial.FineTune is null ? [trial.Options] : new[] { trial.Options, trial.FineTune })
            {
                if (!checkedSettings.Add((options.Augment, options.Scaling))) continue;
                try
                {
                    var preprocessing = Preprocessing.Fit(Preprocessing.ParseKind(options.Scaling), data.Train);
                    _ = AugmentationFactory.Create(options, data.Train, preprocessing);
                }
                catch (OptionException e)
                {
                    throw new OptionException($"{Identify(plan, trial)}: {e.Message}");
                }
            }
        }
    }

    /// <summary>Returns how messages name a trial: its id, then its sweep, row and seed in brackets.</summary>
    private static string Identify(SweepPlan plan, SweepTrial trial) => TrialRunner.Identify(trial, Describe(plan, trial));

    /// <summary>Runs <paramref name="pending"/> on <paramref name="jobs"/> threads; returns false when interrupted.</summary>
    private static bool RunTrials(SweepPlan plan, IReadOnlyList<SweepTrial> pending, DataSplits data, string resultsPath, int jobs, bool quiet)
    {
        using var cancellation = new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            if (!cancellation.IsCancellationRequested)
                Console.Error.WriteLine("digitnet sweep: stopping; trials that are running are discarded and will run again on resume");
            cancellation.Cancel();
        }

        var queue = new ConcurrentQueue<SweepTrial>(pending);
        var clock = Stopwatch.StartNew();
        int finished = 0;
        int diverged = 0;
        var errors = new ConcurrentQueue<Exception>();
        object consoleLock = new();
        using var results = ResultsFile.OpenAppend(resultsPath);

        void Work()
        {
            while (!cancellation.IsCancellationRequested && queue.TryDequeue(out var trial))
            {
                TrialResult? result;
                try
                {
                    result = TrialRunner.Run(trial, data, AugmentationFactory.Create, cancellation.Token);
                }
                catch (Exception e)
                {
                    errors.Enqueue(TrialError(plan, trial, e));
                    cancellation.Cancel();
                    return;
                }
                if (result is null) return;

                try
                {
                    results.Append(TrialRecord.Create(trial, result));
                }
                catch (Exception e)
                {
                    errors.Enqueue(SaveError(plan, trial, e, resultsPath));
                    cancellation.Cancel();
                    return;
                }

                int count = Interlocked.Increment(ref finished);
                if (result.Diverged) Interlocked.Increment(ref diverged);
                if (quiet) continue;
                double elapsed = clock.Elapsed.TotalSeconds;
                double left = elapsed / count * (pending.Count - count);
                string metrics = result.Test is { } test
                    ? Invariant($"test accuracy {test.Accuracy:F4}, loss {test.Loss:F4}, best epoch {result.BestEpoch}")
                    : Invariant($"diverged in epoch {result.DivergedEpoch} (the loss became NaN or infinite), no test result");
                lock (consoleLock)
                {
                    Console.Out.WriteLine(Invariant(
                        $"[{count.ToString().PadLeft(pending.Count.ToString().Length)}/{pending.Count}] {Describe(plan, trial)}: {metrics}, {result.TrainSeconds:F1} s; elapsed {Duration(elapsed)}, about {Duration(left)} left"));
                }
            }
        }

        var workers = Enumerable.Range(0, Math.Min(jobs, pending.Count))
            .Select(_ => new Thread(Work) { IsBackground = true })
            .ToList();
        foreach (var worker in workers) worker.Start();
        foreach (var worker in workers) worker.Join();

        if (!errors.IsEmpty) throw errors.First();
        if (cancellation.IsCancellationRequested)
        {
            Console.Out.WriteLine(Invariant($"interrupted after {Duration(clock.Elapsed.TotalSeconds)}: {Count(finished, "trial")} saved to {resultsPath}, {pending.Count - finished} left; run the same command again to resume"));
            return false;
        }
        Console.Out.WriteLine(Invariant($"ran {Count(finished, "trial")} in {Duration(clock.Elapsed.TotalSeconds)}{(diverged > 0 ? $", {diverged} diverged" : "")}"));
        return true;
    }

    /// <summary>
    /// Returns the error that stops the sweep when <paramref name="trial"/> failed. An invalid
    /// setting becomes an exception that the command reports as an input error (exit code 2), not
    /// as an internal one. Every message names the trial.
    /// </summary>
    private static Exception TrialError(SweepPlan plan, SweepTrial trial, Exception error) => error switch
    {
        OptionException or UsageException or FormatException => new OptionException($"{Identify(plan, trial)}: {error.Message}"),
        _ => new InvalidOperationException($"{Identify(plan, trial)} failed: {error.Message}", error),
    };

    /// <summary>
    /// Returns the error that stops the sweep when the result of <paramref name="trial"/> could not
    /// be appended to the results file, such as on a full disk. Every message names the trial.
    /// </summary>
    private static Exception SaveError(SweepPlan plan, SweepTrial trial, Exception error, string resultsPath) => error switch
    {
        IOException or UnauthorizedAccessException =>
            new IOException($"{resultsPath}: cannot save the result of {Identify(plan, trial)} ({OutputFile.DescribeWriteFailure(error)}); the trial runs again on resume", error),
        _ => new InvalidOperationException($"{Identify(plan, trial)}: saving the result to {resultsPath} failed: {error.Message}", error),
    };

    /// <summary>Writes report.md and the figures, and replaces the marked blocks of the --doc file.</summary>
    private static void WriteReport(SweepPlan plan, IReadOnlyList<TrialRecord> records, string outFolder, OutputOptions output)
    {
        var byId = new Dictionary<string, TrialRecord>(StringComparer.Ordinal);
        foreach (var record in records) byId.TryAdd(record.Id, record);

        Directory.CreateDirectory(output.Images);
        // A sweep file is read as a suite of one sweep with the sweep's title, so its section heading
        // would repeat the report's heading. Such a report shows the title and description once, at the top.
        var suite = plan.Suite;
        bool singleSweep = suite.Sweeps.Count == 1 && suite.Sweeps[0].Title == suite.Title;
        var report = new StringBuilder();
        report.Append("# ").Append(suite.Title).Append("\n\n");
        if (singleSweep && suite.Sweeps[0].Description.Length > 0)
            report.Append(suite.Sweeps[0].Description).Append("\n\n");
        report.Append("Generated by `digitnet sweep`. Test accuracy and loss are mean ± sample standard deviation over seeds; ")
            .Append("test loss is each row's own loss (squared error or cross-entropy); best epoch is the mean epoch whose weights were tested; ")
            .Append("seconds is the mean training time per trial and varies between runs.\n\n");
        var sections = new Dictionary<string, (SweepSummary Summary, IReadOnlyList<(string Caption, string Path)> Figures)>(StringComparer.Ordinal);
        int missing = 0;
        int diverged = 0;
        foreach (var sweep in suite.Sweeps)
        {
            var summary = SweepSummary.Create(sweep, plan, byId);
            missing += summary.MissingTrials;
            diverged += summary.DivergedTrials;
            var figures = SweepPlots.Write(summary, output.Images);
            sections[sweep.Name] = (summary, figures);
            report.Append(SweepMarkdown.Render(summary, Relative(figures, outFolder), singleSweep ? null : "##")).Append('\n');
        }

        string reportPath = Path.Combine(outFolder, ReportFileName);
        AtomicFile.WriteAllText(reportPath, report.ToString());
        string missingText = missing == 0 ? "" : $"; {Count(missing, "trial")} {(missing == 1 ? "has" : "have")} no result yet";
        Console.Out.WriteLine($"wrote {reportPath} and the figures in {output.Images}{missingText}");
        if (diverged > 0)
        {
            var (have, them) = diverged == 1 ? ("has", "it") : ("have", "them");
            Diagnostics.Warning("sweep", $"{Count(diverged, "trial")} diverged (the loss became NaN or infinite) and {have} no test result; {reportPath} counts {them} in the seeds column, and a lower learning rate may avoid divergence");
        }

        if (output.Doc is not null) UpdateDocument(output.Doc, sections);
    }

    /// <summary>
    /// Replaces the text between <c>&lt;!-- sweep:NAME --&gt;</c> and <c>&lt;!-- /sweep:NAME --&gt;</c>
    /// in <paramref name="path"/> with the table and figures of sweep NAME; the prose around the
    /// markers is kept.
    /// </summary>
    private static void UpdateDocument(string path, Dictionary<string, (SweepSummary Summary, IReadOnlyList<(string Caption, string Path)> Figures)> sections)
    {
        string text = File.ReadAllText(path).ReplaceLineEndings("\n");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var updated = new List<string>();
        foreach (var (name, (summary, figures)) in sections)
        {
            string start = $"<!-- sweep:{name} -->";
            string end = $"<!-- /sweep:{name} -->";
            int startIndex = text.IndexOf(start, StringComparison.Ordinal);
            if (startIndex < 0) continue;
            int endIndex = text.IndexOf(end, startIndex, StringComparison.Ordinal);
            if (endIndex < 0) throw new UsageException($"{path}: marker {start} has no closing {end}");

            string block = SweepMarkdown.Render(summary, Relative(figures, folder), headingPrefix: null);
            text = text[..(startIndex + start.Length)] + "\n" + block + text[endIndex..];
            updated.Add(name);
        }
        AtomicFile.WriteAllText(path, text);
        var skipped = sections.Keys.Except(updated).ToList();
        Console.Out.WriteLine($"updated {Count(updated.Count, "table")} in {path}{(skipped.Count > 0 ? $"; no <!-- sweep:NAME --> marker for {string.Join(", ", skipped)}" : "")}");
    }

    private static IReadOnlyList<(string Caption, string Path)> Relative(IReadOnlyList<(string Caption, string Path)> figures, string fromFolder) =>
        figures.Select(f => (f.Caption, Path.GetRelativePath(Path.GetFullPath(fromFolder), Path.GetFullPath(f.Path)))).ToList();

    private static void PrintTrials(SweepPlan plan, IReadOnlyList<SweepTrial> trials)
    {
        Console.Out.WriteLine(Invariant($"{trials.Count} of {Count(plan.Trials.Count, "trial")} (index, id, sweep rows):"));
        foreach (var trial in trials) Console.Out.WriteLine(Invariant($"{trial.Index,5} {trial.Id} {Describe(plan, trial)}"));
    }

    private static string Describe(SweepPlan plan, SweepTrial trial)
    {
        var uses = plan.Uses[trial.Id];
        string shared = uses.Count > 1 ? Invariant($" (also in {Count(uses.Count - 1, "other row")})") : "";
        return Invariant($"{uses[0].Sweep.Name} {uses[0].Point.Label} seed {trial.Options.Seed}{shared}");
    }

    private static string Duration(double seconds)
    {
        var span = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return span.TotalHours >= 1 ? Invariant($"{(int)span.TotalHours}h{span.Minutes:D2}m") : Invariant($"{span.Minutes}m{span.Seconds:D2}s");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Count(int count, string noun) => SweepMarkdown.Count(count, noun);

    private static string Help() => """
        usage: digitnet sweep --config FILE.json --out DIR [options]
               digitnet sweep merge --config FILE.json --out DIR RESULTS.jsonl...

        Runs every trial of a sweep (settings rows times seeds) or of a suite of sweeps, appends each
        result to DIR/results.jsonl as it finishes, and writes DIR/report.md (mean and standard
        deviation of test accuracy and loss per row) with PNG figures. Running the same command again
        skips the trials already in results.jsonl, so an interrupted sweep resumes where it stopped.
        The configuration format is described in docs/sweeps.md.

          --config FILE.json        sweep or suite configuration
          --out DIR                 folder for results.jsonl, report.md and (by default) the figures
          --jobs J                  trials run in parallel (default: processors / threads per trial)
          --threads-per-trial T     worker threads of each trial (default 1); part of each trial's
                                    identity, because results differ between thread counts
          --shard i/n               run only trials i, i+n, i+2n, ... (0 <= i < n) into
                                    DIR/results.shard-i-of-n.jsonl; combine shards with 'sweep merge'
          --data PATH               digits.mat (default: $DIGITNET_DATA, then ./data/digits.mat)
          --images DIR              folder for the PNG figures (default: the --out folder)
          --doc FILE.md             replace the blocks between <!-- sweep:NAME --> and
                                    <!-- /sweep:NAME --> in FILE.md with each sweep's table and figures
          --dry-run                 list the trials (index, id, rows) and exit
          --quiet                   print no line per finished trial

        merge reads the given results files, keeps one record per trial id, writes DIR/results.jsonl
        in configuration order and renders the report as above (it accepts --images, --doc and
        --threads-per-trial, which must match the runs).

        """;
}

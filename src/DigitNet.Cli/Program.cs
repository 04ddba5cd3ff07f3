using System.Reflection;
using DigitNet.Data;
using DigitNet.Serialization;
using DigitNet.Training;

namespace DigitNet.Cli
{
    /// <summary>Entry point of <c>digitnet</c>: dispatches to a command and turns input errors into one-line messages.</summary>
    public static class Program
    {
        /// <summary>Exit code for invalid input: a bad option, file or value.</summary>
        public const int UsageExitCode = 2;

        /// <summary>Exit code of a training run whose loss became NaN or infinite.</summary>
        public const int DivergedExitCode = 3;

        private static readonly Dictionary<string, (Func<IReadOnlyList<string>, int> Run, string Summary)> Commands = new()
        {
            ["train"] = (TrainCommand.Run, "train a classifier on digits.mat and report test accuracy"),
            ["sweep"] = (SweepCommand.Run, "run a grid of settings times seeds in parallel, resumable, with a Markdown report and plots"),
            ["evaluate"] = (EvaluateCommand.Run, "evaluate a model file: accuracy, per-class metrics, confusion matrix"),
            ["predict"] = (PredictCommand.Run, "classify image files (PNG, JPEG, BMP, GIF, WebP) with a model file"),
            ["finetune"] = (FinetuneCommand.Run, "retrain the last layers of a model file and save the result"),
            ["gallery"] = (GalleryCommand.Run, "draw training digits next to augmented versions of them (PNG)"),
        };

        public static int Main(string[] args)
        {
            if (args.Length == 0)
            {
                // No command is a usage error. The usage goes to standard error, so output meant for
                // a pipe or a file never contains it.
                Console.Error.Write(Usage());
                return UsageExitCode;
            }
            // "help train" and "train -h" mean "train --help".
            if (args is ["help", var topic])
                args = [topic, "--help"];
            if (args[0] is "--help" or "-h" or "help")
            {
                Console.Out.Write(Usage());
                return 0;
            }
            args = [args[0], .. args[1..].Select(arg => arg == "-h" ? "--help" : arg)];
            if (args[0] == "--version")
            {
                Console.Out.WriteLine($"digitnet {Version()}");
                return 0;
            }
            if (!Commands.TryGetValue(args[0], out var command))
            {
                Console.Error.WriteLine($"digitnet: error: unknown command '{args[0]}'; expected one of {string.Join(", ", Commands.Keys)}");
                return UsageExitCode;
            }

            try
            {
                return command.Run(args[1..]);
            }
            catch (Exception e) when (IsInputError(e))
            {
                Diagnostics.Error(args[0], e.Message);
                return UsageExitCode;
            }
            catch (Exception e) when (Environment.GetEnvironmentVariable("DIGITNET_DEBUG") is null)
            {
                Console.Error.WriteLine($"digitnet {args[0]}: internal error: {e.GetType().Name}: {OneLine(e.Message)} (set DIGITNET_DEBUG=1 for the stack trace)");
                return 1;
            }
        }

        /// <summary>Errors caused by the user's input, as opposed to bugs.</summary>
        private static bool IsInputError(Exception e) => e is UsageException or OptionException or DataFormatException or ModelFormatException
            or FormatException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException;

        /// <summary>Joins the lines of an error message into one, for the one-line errors of every command.</summary>
        internal static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

        /// <summary>
        /// Returns the package version, such as 0.1.0, followed by the commit it was built from
        /// when the build recorded one.
        /// </summary>
        private static string Version()
        {
            string? informational = typeof(Program).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            if (informational is null)
                return typeof(Program).Assembly.GetName().Version?.ToString(3) ?? "unknown";
            int plus = informational.IndexOf('+');
            if (plus < 0)
                return informational;
            string commit = informational[(plus + 1)..];
            return $"{informational[..plus]} (commit {commit[..Math.Min(7, commit.Length)]})";
        }

        private static string Usage()
        {
            var text = new System.Text.StringBuilder();
            text.AppendLine("usage: digitnet COMMAND [options]");
            text.AppendLine();
            text.AppendLine("DigitNet trains and runs handwritten-digit classifiers written from scratch in C#.");
            text.AppendLine();
            text.AppendLine("commands:");
            foreach (var (name, command) in Commands) text.AppendLine($"  {name,-10} {command.Summary}");
            text.AppendLine();
            text.AppendLine("Run 'digitnet COMMAND --help' for the options of a command, and 'digitnet --version'");
            text.AppendLine("for the version.");
            return text.ToString();
        }
    }
}

namespace DigitNet.Cli;

/// <summary>
/// Writes the errors, warnings and notes of the commands to standard error, one line each, as
/// "digitnet COMMAND: LEVEL: message", so that every diagnostic names the command that wrote it
/// and a script can pick the lines of one level by their prefix.
/// </summary>
internal static class Diagnostics
{
    /// <summary>Writes an error: input that stopped the command or one of its files.</summary>
    public static void Error(string command, string message) => Write(command, "error", message);

    /// <summary>Writes a warning: a result that is suspect although the command succeeded.</summary>
    public static void Warning(string command, string message) => Write(command, "warning", message);

    /// <summary>Writes a note: something the command did that the user may not expect, such as an adjusted setting.</summary>
    public static void Note(string command, string message) => Write(command, "note", message);

    private static void Write(string command, string level, string message) =>
        Console.Error.WriteLine($"digitnet {command}: {level}: {Program.OneLine(message)}");
}

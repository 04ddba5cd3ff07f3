using System.Diagnostics;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>
/// Renders batch progress as a bar on standard error when it is a terminal, redrawn at most ten
/// times a second; when standard error is redirected it draws nothing, and the epoch lines on
/// standard output are the only progress shown.
/// </summary>
public sealed class ConsoleProgress : IProgress<BatchProgress>
{
    private const int BarWidth = 30;
    private readonly bool _enabled = !Console.IsErrorRedirected;
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private bool _drawn;

    public void Report(BatchProgress value)
    {
        if (!_enabled) return;
        if (value.Batch != value.Batches && _sinceDraw.ElapsedMilliseconds < 100) return;
        _sinceDraw.Restart();

        int filled = (int)((long)BarWidth * value.Batch / value.Batches);
        Console.Error.Write($"\r  epoch {value.Epoch}/{value.Epochs} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {value.Batch}/{value.Batches}");
        _drawn = true;
    }

    /// <summary>Erases the bar so that the next line starts clean.</summary>
    public void Clear()
    {
        if (!_enabled || !_drawn) return;
        Console.Error.Write("\r" + new string(' ', BarWidth + 40) + "\r");
        _drawn = false;
    }
}

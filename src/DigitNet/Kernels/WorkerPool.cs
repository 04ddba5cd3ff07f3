namespace DigitNet.Kernels;

/// <summary>Work that a <see cref="WorkerPool"/> splits into contiguous index ranges.</summary>
public interface IParallelJob
{
    /// <summary>Processes indices [<paramref name="begin"/>, <paramref name="end"/>) as worker <paramref name="worker"/>.</summary>
    void Execute(int begin, int end, int worker);
}

/// <summary>
/// A fixed set of threads that run one job at a time. Ranges are split statically, so a given
/// thread count always gives the same partition and results are reproducible.
/// </summary>
/// <remarks>Placeholder: runs everything on the calling thread. Replaced by the threaded version.</remarks>
public sealed class WorkerPool : IDisposable
{
    public WorkerPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threadCount);
        ThreadCount = threadCount;
    }

    /// <summary>Number of threads that take part in a job, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>Runs <paramref name="job"/> over [0, <paramref name="count"/>) and returns when every range is done.</summary>
    public void Run(IParallelJob job, int count)
    {
        if (count > 0) job.Execute(0, count, 0);
    }

    public void Dispose() { }
}

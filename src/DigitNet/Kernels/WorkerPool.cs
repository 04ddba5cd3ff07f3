using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace DigitNet.Kernels;

/// <summary>Work that a <see cref="WorkerPool"/> splits into contiguous index ranges.</summary>
public interface IParallelJob
{
    /// <summary>Processes indices [<paramref name="begin"/>, <paramref name="end"/>) as worker <paramref name="worker"/>.</summary>
    void Execute(int begin, int end, int worker);
}

/// <summary>
/// A fixed set of threads that run one job at a time. <see cref="Run"/> splits ranges
/// statically, so a given thread count always gives the same partition and results are
/// reproducible. <see cref="RunBalanced"/> lets a faster thread take work from a slower one, for
/// jobs whose results do not depend on which thread computes them.
/// </summary>
/// <remarks>
/// The calling thread runs range 0 and <c>ThreadCount - 1</c> dedicated background threads run the
/// others. Each job is a new generation: every background thread takes part in every generation
/// once, in order, and the caller waits until all of them are done. An idle thread spins for
/// about 500 microseconds before it blocks on a monitor. Jobs that follow each other closely,
/// like the layers of one training step, so find the threads awake, and an idle pool soon uses
/// no CPU. <see cref="Run"/> allocates nothing. Dispose the pool to stop its threads.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    // About 500 µs, so that the threads stay awake through a training step and an idle pool still
    // stops burning a core within a millisecond. With 50 µs, the threads of the 256-180-100-10
    // network blocked between kernels, and each wake-up made the next gap longer. Its two-thread
    // step took about 325 µs in 8 of 8 processes, against 153 to 157 µs in 6 of 6 with 500 µs.
    private static readonly long SpinTicks = Math.Max(1, Stopwatch.Frequency / 2_000);

    // The pool whose job the current thread is executing, and as which worker. Worker threads
    // set these once; the calling thread sets them for the duration of its own range.
    [ThreadStatic] private static WorkerPool? t_currentPool;
    [ThreadStatic] private static int t_currentWorker;

    private readonly Thread[] _threads;
    private readonly Exception?[] _errors;
    private readonly Lock _runLock = new();

    // Background threads block on _wakeGate until the generation changes, and the caller blocks
    // on _doneGate until _pending is zero. Each side checks its condition inside the monitor, and
    // the other side pulses inside it, so no wake-up is lost. The counters tell the other side
    // whether anyone might be blocked, so that a busy pool never takes the monitors.
    private readonly object _wakeGate = new();
    private readonly object _doneGate = new();
    private int _blockedWorkers;
    private int _callerBlocked;

    // The job being run, its index count and whether it is balanced. They are written before the
    // generation is advanced.
    private IParallelJob? _job;
    private int _count;
    private bool _balanced;

    // For a balanced job, the indices each worker has left: the front (next to take, high 32
    // bits) and the back (one past the last, low 32 bits) of worker w's range at [w * RangePadding].
    // The owner takes from the front and the others from the back, each with a compare-exchange,
    // so every index runs exactly once. The padding keeps each range on its own cache line.
    private const int RangePadding = 8;
    private readonly long[] _ranges;

    // Incremented once per job. A background thread runs each generation exactly once, because
    // RunLocked waits for all of them to finish before it increments the counter again.
    private long _generation;

    // Background threads that have not finished the current generation.
    private int _pending;
    private volatile bool _disposed;

    /// <summary>Creates a pool and starts <c>threadCount - 1</c> background threads.</summary>
    /// <param name="threadCount">Threads that take part in a job, the calling thread included; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threadCount"/> is zero or negative.</exception>
    public WorkerPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threadCount);
        ThreadCount = threadCount;

        _errors = new Exception?[threadCount];
        _ranges = new long[threadCount * RangePadding];
        _threads = new Thread[threadCount];
        for (int worker = 1; worker < threadCount; worker++)
        {
            _threads[worker] = new Thread(WorkerLoop)
            {
                IsBackground = true,
                Name = $"DigitNet worker {worker}",
            };
            _threads[worker].Start(worker);
        }
    }

    /// <summary>The number of logical processors, a sensible thread count for compute-bound jobs.</summary>
    public static int DefaultThreadCount => Environment.ProcessorCount;

    /// <summary>Number of threads that take part in a job, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs <paramref name="job"/> over [0, <paramref name="count"/>) and returns when every range is done.
    /// </summary>
    /// <remarks>
    /// Worker <c>w</c> gets the contiguous range that starts at <c>w * (count / ThreadCount) + min(w, count % ThreadCount)</c>,
    /// so the first <c>count % ThreadCount</c> workers get one index more. Workers whose range is empty are
    /// not called. A <see cref="Run"/> from inside a job of this pool runs the whole range inline on the current
    /// worker. With more than one thread, calls from different threads are serialised. A pool of one
    /// thread runs every job inline on the caller without any synchronisation.
    /// </remarks>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <exception cref="AggregateException">More than one range threw; a single exception is rethrown as it is.</exception>
    public void Run(IParallelJob job, int count) => RunCore(job, count, balanced: false);

    /// <summary>
    /// Runs <paramref name="job"/> over [0, <paramref name="count"/>) like <see cref="Run"/>, but
    /// on more than one thread each call gets one index, and a worker that has finished its own
    /// range takes the last indices of the others' ranges. When one core runs slower than the
    /// other, the faster one takes over part of its work instead of waiting for it.
    /// </summary>
    /// <remarks>
    /// Which worker runs an index depends on timing. So use it only for jobs whose result for an
    /// index does not depend on the worker that computes it, such as jobs that give each worker
    /// its own scratch space and nothing else. Without stealing, each worker runs the same indices
    /// as with <see cref="Run"/>, in increasing order, so data made by one job for a range of
    /// indices stays in the cache of the core that uses it in the next.
    /// </remarks>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <exception cref="AggregateException">More than one worker threw; a single exception is rethrown as it is.</exception>
    public void RunBalanced(IParallelJob job, int count) => RunCore(job, count, balanced: true);

    private void RunCore(IParallelJob job, int count, bool balanced)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count == 0)
            return;

        if (ThreadCount == 1)
        {
            job.Execute(0, count, 0);
            return;
        }

        if (t_currentPool == this)
        {
            // Nested call: the other workers may be busy with the outer job, so waiting for them
            // could deadlock. The current worker runs everything.
            job.Execute(0, count, t_currentWorker);
            return;
        }

        lock (_runLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RunLocked(job, count, balanced);
        }
    }

    private void RunLocked(IParallelJob job, int count, bool balanced)
    {
        // A single index needs no other thread; waking them would only cost time.
        bool useWorkers = count > 1;
        _balanced = balanced && useWorkers;
        if (_balanced)
        {
            for (int worker = 0; worker < ThreadCount; worker++)
            {
                var (begin, end) = StaticRange(count, worker);
                Volatile.Write(ref _ranges[worker * RangePadding], Pack(begin, end));
            }
        }

        if (useWorkers)
        {
            _job = job;
            _count = count;
            Volatile.Write(ref _pending, ThreadCount - 1);

            // Interlocked.Increment is a full fence: a worker that reads the new generation also
            // reads the job. Either the worker reads the new generation before it blocks, or this
            // thread reads it counted in _blockedWorkers and pulses the monitor it waits on.
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _blockedWorkers) > 0)
            {
                lock (_wakeGate)
                    Monitor.PulseAll(_wakeGate);
            }
        }

        WorkerPool? outerPool = t_currentPool;
        int outerWorker = t_currentWorker;
        t_currentPool = this;
        t_currentWorker = 0;
        try
        {
            ExecuteRange(job, count, 0);
        }
        finally
        {
            t_currentPool = outerPool;
            t_currentWorker = outerWorker;
        }

        if (useWorkers)
        {
            WaitForWorkers();
            _job = null;
        }
        ThrowCollectedErrors();
    }

    private void ExecuteRange(IParallelJob job, int count, int worker)
    {
        try
        {
            if (_balanced)
            {
                ExecuteBalanced(job, worker);
                return;
            }

            var (begin, end) = StaticRange(count, worker);
            if (begin < end)
                job.Execute(begin, end, worker);
        }
        catch (Exception error)
        {
            _errors[worker] = error;
        }
    }

    /// <summary>The range of worker <paramref name="worker"/> in the static split of <paramref name="count"/> indices.</summary>
    private (int Begin, int End) StaticRange(int count, int worker)
    {
        int quotient = count / ThreadCount;
        int remainder = count % ThreadCount;
        int begin = worker * quotient + Math.Min(worker, remainder);
        return (begin, begin + quotient + (worker < remainder ? 1 : 0));
    }

    /// <summary>Runs the worker's own indices from the front, then the others' from the back.</summary>
    private void ExecuteBalanced(IParallelJob job, int worker)
    {
        int index;
        while ((index = Take(worker, fromFront: true)) >= 0)
            job.Execute(index, index + 1, worker);

        for (int offset = 1; offset < ThreadCount; offset++)
        {
            int victim = (worker + offset) % ThreadCount;
            while ((index = Take(victim, fromFront: false)) >= 0)
                job.Execute(index, index + 1, worker);
        }
    }

    /// <summary>Takes the first or the last index left in a worker's range, or returns -1 when it is empty.</summary>
    private int Take(int owner, bool fromFront)
    {
        ref long range = ref _ranges[owner * RangePadding];
        while (true)
        {
            long packed = Volatile.Read(ref range);
            int front = (int)(packed >> 32), back = (int)packed;
            if (front >= back)
                return -1;
            long rest = fromFront ? Pack(front + 1, back) : Pack(front, back - 1);
            if (Interlocked.CompareExchange(ref range, rest, packed) == packed)
                return fromFront ? front : back - 1;
        }
    }

    private static long Pack(int front, int back) => ((long)front << 32) | (uint)back;

    private void WaitForWorkers()
    {
        if (SpinUntilZero(ref _pending))
            return;

        lock (_doneGate)
        {
            // The same handshake as the wake-up in RunLocked, with the roles swapped.
            Interlocked.Exchange(ref _callerBlocked, 1);
            while (Volatile.Read(ref _pending) != 0)
                Monitor.Wait(_doneGate);
            Volatile.Write(ref _callerBlocked, 0);
        }
    }

    private void ThrowCollectedErrors()
    {
        List<Exception>? errors = null;
        for (int worker = 0; worker < ThreadCount; worker++)
        {
            if (_errors[worker] is { } error)
                (errors ??= []).Add(error);
            _errors[worker] = null;
        }

        if (errors is null)
            return;
        if (errors.Count == 1)
            ExceptionDispatchInfo.Capture(errors[0]).Throw();
        throw new AggregateException("several workers of the pool threw; see the inner exceptions", errors);
    }

    private void WorkerLoop(object? state)
    {
        int worker = (int)state!;
        t_currentPool = this;
        t_currentWorker = worker;
        long seen = 0;

        while (true)
        {
            seen = WaitForGeneration(seen);
            if (_disposed)
                return;

            ExecuteRange(_job!, _count, worker);

            // Interlocked.Decrement is a full fence: see WaitForWorkers for the handshake. A pulse
            // that arrives after the caller has moved on is harmless, because it rechecks.
            if (Interlocked.Decrement(ref _pending) == 0 && Volatile.Read(ref _callerBlocked) != 0)
            {
                lock (_doneGate)
                    Monitor.Pulse(_doneGate);
            }
        }
    }

    /// <summary>Waits until the generation differs from <paramref name="seen"/> and returns the new one.</summary>
    private long WaitForGeneration(long seen)
    {
        long start = Stopwatch.GetTimestamp();
        var spinner = new SpinWait();
        while (Volatile.Read(ref _generation) == seen)
        {
            if (Stopwatch.GetTimestamp() - start > SpinTicks)
            {
                lock (_wakeGate)
                {
                    Interlocked.Increment(ref _blockedWorkers);
                    while (Volatile.Read(ref _generation) == seen)
                        Monitor.Wait(_wakeGate);
                    Interlocked.Decrement(ref _blockedWorkers);
                }
                break;
            }
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        return Volatile.Read(ref _generation);
    }

    /// <summary>
    /// Spins for up to <see cref="SpinTicks"/> until <paramref name="value"/> is zero and returns
    /// whether it got there in time.
    /// </summary>
    private static bool SpinUntilZero(ref int value)
    {
        // SpinWait pauses at first and then yields the core now and then, which lets the awaited
        // thread run when there are more threads than cores. Sleep(1) is disabled because it
        // would add a millisecond to the hand-off.
        long start = Stopwatch.GetTimestamp();
        var spinner = new SpinWait();
        while (Volatile.Read(ref value) != 0)
        {
            if (Stopwatch.GetTimestamp() - start > SpinTicks)
                return false;
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        return true;
    }

    /// <summary>Stops the background threads after the current job, if any, finishes.</summary>
    public void Dispose()
    {
        lock (_runLock)
        {
            if (_disposed)
                return;
            _disposed = true;
            Interlocked.Increment(ref _generation);
            lock (_wakeGate)
                Monitor.PulseAll(_wakeGate);
        }

        for (int worker = 1; worker < ThreadCount; worker++)
        {
            if (_threads[worker] != Thread.CurrentThread)
                _threads[worker].Join();
        }
    }
}

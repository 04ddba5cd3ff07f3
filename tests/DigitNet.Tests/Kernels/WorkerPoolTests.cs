using DigitNet.Kernels;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Kernels;

public sealed class WorkerPoolTests
{
    public static TheoryData<int, int> CountsAndThreads()
    {
        var data = new TheoryData<int, int>();
        foreach (int threads in new[] { 1, 2, 3 })
        {
            foreach (int count in new[] { 0, 1, 2, 3, 7, 1000 })
                data.Add(count, threads);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CountsAndThreads))]
    public void Run_CoversEveryIndexOnce(int count, int threads)
    {
        using var pool = new WorkerPool(threads);
        var job = new RecordingJob(count, threads);

        for (int repeat = 0; repeat < 3; repeat++)
        {
            job.Reset();
            pool.Run(job, count);

            for (int i = 0; i < count; i++)
                Assert.True(job.Visits[i] == 1, $"index {i} of {count} visited {job.Visits[i]} times with {threads} threads");
        }
    }

    [Theory]
    [MemberData(nameof(CountsAndThreads))]
    public void Run_SplitsStaticallyIntoContiguousRanges(int count, int threads)
    {
        using var pool = new WorkerPool(threads);
        var job = new RecordingJob(count, threads);
        pool.Run(job, count);

        // Worker w gets count / threads indices, plus one for the first count % threads workers.
        int begin = 0;
        for (int worker = 0; worker < threads; worker++)
        {
            int length = count / threads + (worker < count % threads ? 1 : 0);
            if (length == 0)
            {
                Assert.True(job.Ranges[worker] is null, $"worker {worker} was called for an empty range");
                continue;
            }
            Assert.Equal((begin, begin + length), job.Ranges[worker]);
            begin += length;
        }
        Assert.Equal(count, begin);
    }

    [Fact]
    public void Run_UsesTheBackgroundThreads()
    {
        using var pool = new WorkerPool(3);
        var job = new RecordingJob(3, 3);
        pool.Run(job, 3);

        Assert.Equal(Environment.CurrentManagedThreadId, job.ThreadIds[0]);
        Assert.Equal(3, job.ThreadIds.Distinct().Count());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Run_PropagatesWorkerException(int throwingWorker)
    {
        using var pool = new WorkerPool(2);
        var job = new ThrowingJob(throwingWorker);

        var error = Assert.Throws<InvalidOperationException>(() => pool.Run(job, 10));
        Assert.Equal($"worker {throwingWorker} failed", error.Message);

        // The pool still works after a failed job.
        var recording = new RecordingJob(10, 2);
        pool.Run(recording, 10);
        Assert.All(recording.Visits, visits => Assert.Equal(1, visits));
    }

    [Fact]
    public void Run_AggregatesSeveralExceptions()
    {
        using var pool = new WorkerPool(3);
        var error = Assert.Throws<AggregateException>(() => pool.Run(new ThrowingJob(-1), 3));
        Assert.Equal(3, error.InnerExceptions.Count);
    }

    [Fact]
    public void Run_InlineWithOneThreadPropagatesException()
    {
        using var pool = new WorkerPool(1);
        var error = Assert.Throws<InvalidOperationException>(() => pool.Run(new ThrowingJob(0), 5));
        Assert.Equal("worker 0 failed", error.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task NestedRun_RunsInlineWithoutDeadlock(int threads)
    {
        using var pool = new WorkerPool(threads);
        var outer = new NestedJob(pool, innerCount: 50);

        // A deadlock would hang the test run, so the call runs on another thread with a timeout.
        var run = Task.Run(() => pool.Run(outer, 6));
        Assert.True(await FinishesWithin(run, TimeSpan.FromSeconds(30)), "nested Run did not finish within 30 s");

        for (int i = 0; i < 6; i++)
        {
            for (int j = 0; j < 50; j++)
                Assert.True(outer.Visits[i, j] == 1, $"inner index {j} of outer index {i} visited {outer.Visits[i, j]} times");
        }
    }

    [Fact]
    public void NestedRun_KeepsTheWorkerIndex()
    {
        // Jobs index per-worker scratch by the worker argument, so a nested call, even of a
        // single index, must run as the worker that makes it and not as worker 0.
        using var pool = new WorkerPool(2);
        var outer = new WorkerEchoJob(pool);
        pool.Run(outer, 2);

        Assert.Equal(0, outer.InnerWorkers[0]);
        Assert.Equal(1, outer.InnerWorkers[1]);
    }

    [Fact]
    public async Task Run_ManyTinyJobsAndIdleGaps()
    {
        // Back-to-back runs exercise the spinning hand-off; the pauses let the workers block on
        // their semaphores, which exercises the sleeping hand-off. A lost wake-up hangs here.
        using var pool = new WorkerPool(3);
        var job = new RecordingJob(5, 3);
        var run = Task.Run(() =>
        {
            for (int repeat = 0; repeat < 3000; repeat++)
            {
                job.Reset();
                pool.Run(job, 5);
                for (int i = 0; i < 5; i++)
                {
                    if (job.Visits[i] != 1)
                        throw new InvalidOperationException($"run {repeat}: index {i} visited {job.Visits[i]} times");
                }
                if (repeat % 300 == 0)
                    Thread.Sleep(5);
            }
        });
        Assert.True(await FinishesWithin(run, TimeSpan.FromSeconds(60)), "3000 runs did not finish within 60 s");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Run_AllocatesNothing(int threads)
    {
        using var pool = new WorkerPool(threads);
        var job = new RecordingJob(100, threads);
        for (int repeat = 0; repeat < 10; repeat++)
            pool.Run(job, 100);

        long allocated = AllocationMeter.LeastAllocated(() =>
        {
            for (int repeat = 0; repeat < 1000; repeat++)
                pool.Run(job, 100);
        });

        Assert.True(allocated == 0, $"{allocated} bytes allocated by 1000 runs");
    }

    [Theory]
    [MemberData(nameof(CountsAndThreads))]
    public void RunBalanced_CoversEveryIndexOnce(int count, int threads)
    {
        using var pool = new WorkerPool(threads);
        var job = new OrderJob(count, threads);

        for (int repeat = 0; repeat < 3; repeat++)
        {
            job.Reset();
            pool.RunBalanced(job, count);

            var visits = new int[count];
            foreach (var order in job.Orders)
            {
                foreach (int index in order)
                    visits[index]++;
            }
            for (int i = 0; i < count; i++)
                Assert.True(visits[i] == 1, $"index {i} of {count} visited {visits[i]} times with {threads} threads");
        }
    }

    [Fact]
    public void RunBalanced_StartsOnStaticRanges()
    {
        using var pool = new WorkerPool(2);
        var job = new OrderJob(8, 2);
        pool.RunBalanced(job, 8);

        // The caller starts at once on indices 0 to 3, in order. Worker 1 may wake up late and
        // find that the caller took its range from the back, but whatever it runs starts at the
        // front of its range, index 4, and goes up from there.
        Assert.Equal([0, 1, 2, 3], job.Orders[0].Take(4));
        if (job.Orders[1].Count > 0)
            Assert.Equal(4, job.Orders[1][0]);
        var own = job.Orders[1].Where(index => index >= 4).ToList();
        Assert.Equal(own.Order(), own);
    }

    [Fact]
    public async Task RunBalanced_FastWorkerSteals()
    {
        using var pool = new WorkerPool(2);
        var job = new SlowSecondWorkerJob();

        var run = Task.Run(() => pool.RunBalanced(job, 8));
        Assert.True(await FinishesWithin(run, TimeSpan.FromSeconds(30)), "the balanced run did not finish within 30 s");

        // Worker 1 is held inside index 4, the front of its range, until worker 0 has run three
        // more indices. Those can only be 7, 6 and 5, taken from the back of worker 1's range.
        Assert.Equal([0, 1, 2, 3, 7, 6, 5], job.Orders[0]);
        Assert.Equal([4], job.Orders[1]);
    }

    [Fact]
    public void RunBalanced_PropagatesWorkerException()
    {
        using var pool = new WorkerPool(2);
        var error = Assert.Throws<InvalidOperationException>(() => pool.RunBalanced(new IndexThrowingJob(7), 10));
        Assert.Equal("index 7 failed", error.Message);

        var job = new OrderJob(10, 2);
        pool.RunBalanced(job, 10);
        Assert.Equal(10, job.Orders.Sum(order => order.Count));
    }

    [Fact]
    public void RunBalanced_AllocatesNothing()
    {
        using var pool = new WorkerPool(2);
        var job = new RecordingJob(100, 2);
        for (int repeat = 0; repeat < 10; repeat++)
            pool.RunBalanced(job, 100);

        long allocated = AllocationMeter.LeastAllocated(() =>
        {
            for (int repeat = 0; repeat < 1000; repeat++)
                pool.RunBalanced(job, 100);
        });

        Assert.True(allocated == 0, $"{allocated} bytes allocated by 1000 balanced runs");
    }

    [Fact]
    public void Run_AfterDispose_Throws()
    {
        var pool = new WorkerPool(2);
        pool.Dispose();
        pool.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.Run(new RecordingJob(4, 2), 4));
    }

    [Fact]
    public void Constructor_RejectsNonPositiveThreadCount()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(-2));
    }

    [Fact]
    public void DefaultThreadCount_IsProcessorCount()
    {
        Assert.Equal(Environment.ProcessorCount, WorkerPool.DefaultThreadCount);
    }

    /// <summary>
    /// Returns whether <paramref name="task"/> finished within <paramref name="limit"/>, and
    /// rethrows its exception if it failed. A hang in the pool so fails the test instead of
    /// stopping the test run.
    /// </summary>
    private static async Task<bool> FinishesWithin(Task task, TimeSpan limit)
    {
        if (await Task.WhenAny(task, Task.Delay(limit)) != task)
            return false;
        await task;
        return true;
    }

    private sealed class RecordingJob(int count, int threads) : IParallelJob
    {
        public int[] Visits { get; } = new int[count];
        public (int Begin, int End)?[] Ranges { get; } = new (int, int)?[threads];
        public int[] ThreadIds { get; } = new int[threads];

        public void Reset() => Array.Clear(Visits);

        public void Execute(int begin, int end, int worker)
        {
            Ranges[worker] = (begin, end);
            ThreadIds[worker] = Environment.CurrentManagedThreadId;
            for (int i = begin; i < end; i++)
                Interlocked.Increment(ref Visits[i]);
        }
    }

    /// <summary>Records the indices each worker ran, in the order it ran them.</summary>
    private sealed class OrderJob(int count, int threads) : IParallelJob
    {
        public List<int>[] Orders { get; } = Enumerable.Range(0, threads).Select(_ => new List<int>(count)).ToArray();

        public void Reset()
        {
            foreach (var order in Orders)
                order.Clear();
        }

        public void Execute(int begin, int end, int worker)
        {
            for (int i = begin; i < end; i++)
                Orders[worker].Add(i);
        }
    }

    /// <summary>
    /// Eight indices on two workers, where worker 1 stalls in index 4 until worker 0 has run three
    /// indices after its own four. Worker 0 waits in index 0 until worker 1 has started, so that
    /// it cannot take index 4 first.
    /// </summary>
    private sealed class SlowSecondWorkerJob : IParallelJob
    {
        private readonly ManualResetEventSlim _secondStarted = new();
        private readonly CountdownEvent _stolen = new(3);

        public List<int>[] Orders { get; } = [[], []];

        public void Execute(int begin, int end, int worker)
        {
            Assert.Equal(begin + 1, end);
            Orders[worker].Add(begin);
            if (worker == 0 && begin == 0)
                Assert.True(_secondStarted.Wait(TimeSpan.FromSeconds(10)), "worker 1 did not start index 4");
            if (worker == 0 && begin >= 4)
                _stolen.Signal();
            if (worker == 1 && begin == 4)
            {
                _secondStarted.Set();
                Assert.True(_stolen.Wait(TimeSpan.FromSeconds(10)), "worker 0 did not take indices from worker 1");
            }
        }
    }

    /// <summary>Throws from whichever worker runs index <c>throwingIndex</c>.</summary>
    private sealed class IndexThrowingJob(int throwingIndex) : IParallelJob
    {
        public void Execute(int begin, int end, int worker)
        {
            if (begin <= throwingIndex && throwingIndex < end)
                throw new InvalidOperationException($"index {throwingIndex} failed");
        }
    }

    /// <summary>Throws from worker <c>throwingWorker</c>, or from every worker when it is -1.</summary>
    private sealed class ThrowingJob(int throwingWorker) : IParallelJob
    {
        public void Execute(int begin, int end, int worker)
        {
            if (throwingWorker < 0 || worker == throwingWorker)
                throw new InvalidOperationException($"worker {worker} failed");
        }
    }

    /// <summary>Records, for each outer index, the worker that a nested one-index job ran as.</summary>
    private sealed class WorkerEchoJob(WorkerPool pool) : IParallelJob
    {
        public int[] InnerWorkers { get; } = [-1, -1];

        public void Execute(int begin, int end, int worker)
        {
            for (int i = begin; i < end; i++)
                pool.Run(new InnerJob(this, i), 1);
        }

        private sealed class InnerJob(WorkerEchoJob outer, int index) : IParallelJob
        {
            public void Execute(int begin, int end, int worker) => outer.InnerWorkers[index] = worker;
        }
    }

    private sealed class NestedJob(WorkerPool pool, int innerCount) : IParallelJob
    {
        public int[,] Visits { get; } = new int[6, innerCount];

        public void Execute(int begin, int end, int worker)
        {
            for (int i = begin; i < end; i++)
                pool.Run(new InnerJob(this, i), innerCount);
        }

        private sealed class InnerJob(NestedJob outer, int row) : IParallelJob
        {
            public void Execute(int begin, int end, int worker)
            {
                for (int j = begin; j < end; j++)
                    Interlocked.Increment(ref outer.Visits[row, j]);
            }
        }
    }
}

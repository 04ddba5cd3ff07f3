using BenchmarkDotNet.Running;

namespace DigitNet.Benchmarks;

/// <summary>
/// Entry point. <c>gemm</c> and <c>e2e</c> print comparison tables; anything else goes to
/// BenchmarkDotNet's switcher (for example <c>--filter *Gemm*</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "";
        try
        {
            switch (mode)
            {
                case "gemm":
                    return GemmComparison.Run(new ArgumentReader(mode, args.Skip(1)));
                case "e2e":
                    return EndToEnd.Run(new ArgumentReader(mode, args.Skip(1)));
                case "latency":
                    return InferenceLatency.Run(new ArgumentReader(mode, args.Skip(1)));
                case "profile":
                    return StepProfile.Run(new ArgumentReader(mode, args.Skip(1)));
                case "help" or "--help" or "-h":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                    return 0;
            }
        }
        catch (Exception e) when (e is ArgumentException or DllNotFoundException or FileNotFoundException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }

    private const string Usage = """
        DigitNet benchmarks. Run from the repository root with
          dotnet run -c Release --project bench/DigitNet.Benchmarks -- MODE [options]

        Modes:
          gemm      DigitNet GEMM against OpenBLAS cblas_sgemm in one process, in GFLOP/s
                      --threads 1,2       thread counts to compare (default 1,2)
                      --sizes 128,...     square sizes (default 128,256,512,1024,2048)
                      --rounds 15         timed rounds per library; the best counts
                      --round-ms 40       length of a round in milliseconds
                      --squares-only      skip the training shapes
                      --only TEXT         only the products whose name contains TEXT, e.g. conv1
          e2e       train the same networks in DigitNet and PyTorch on digits.mat and compare
                      --data PATH         digits.mat (default ../shared/data/digits.mat)
                      --threads 2         threads for both frameworks
                      --networks LIST     comma-separated subset of baseline,mlp,cnn (default all)
                      --epochs N          override every network's epoch count
                      --python PATH       Python with torch 1.13 (default /usr/bin/python3)
                      --rounds 3          rounds of each network, DigitNet and PyTorch in turn, each from the
                                          next seed; the median speed and the mean accuracy count
                      --no-scaling        skip the CNN thread-scaling runs
                      --scaling-rounds 3  rounds of the CNN on 1 thread, then on --threads, in turn
                      --seed N            seed of round 1's initial weights and sample order (default 1)
                      --check-steps N     SGD steps that the step check compares, 0 to skip it (default 10)
                      --pytorch-dtype T   float32 (default) or float64 for the PyTorch training run
                      --keep-files        keep the exported .npy files and print their folder
          latency   single-image inference time of the 256-180-100-10 network, in microseconds
          profile   time of one training step, layer by layer, at each thread count
                      --network cnn       one of baseline, mlp, cnn (default cnn)
                      --threads 1,2       thread counts to compare (default 1,2)
                      --steps 400         timed steps; the median of each part is shown
          (other)   BenchmarkDotNet micro-benchmarks, e.g. --filter '*Gemm*' or --list flat
        """;
}

using DigitNet.Data;
using DigitNet.Kernels;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Benchmarks;

/// <summary>
/// Records the first SGD steps of a run in DigitNet, so that bench/pytorch_train.py can repeat
/// them from the same state and compare every intermediate value.
/// </summary>
/// <remarks>
/// <para>The steps start from the exported initial weights and take the batches in the exported
/// sample order, into later epochs if there are more steps than batches in one, with the loss,
/// optimiser and thread count of the run. Each step is a copy of the one in
/// <see cref="Trainer.Fit"/>, run layer by layer so that the outputs can be saved, at the
/// constant learning rate that the PyTorch script supports. The evaluation after each epoch is
/// left out because it changes no weights. The files go to <c>check/</c> in the export
/// folder:</para>
/// <list type="bullet">
/// <item><c>forward/LL_name.npy</c>: the output of layer LL in step 1, shape <c>[N, ..]</c>.</item>
/// <item><c>backward/LL_name.npy</c>: the gradient of the loss with respect to that output.</item>
/// <item><c>loss.npy</c>: the loss of step 1, shape <c>[1]</c>, float64.</item>
/// <item><c>gradients.npy</c>: every parameter gradient of step 1, concatenated in parameter order.</item>
/// <item><c>weights.npy</c>: the parameters after each step, shape <c>[steps, parameter count]</c>.</item>
/// </list>
/// </remarks>
internal static class StepCheck
{
    /// <summary>
    /// Runs <paramref name="steps"/> steps on <paramref name="network"/>, which must hold the exported
    /// initial weights and is trained in place, and writes the files into <paramref name="folder"/>/check.
    /// </summary>
    /// <param name="train">The preprocessed training split, as exported.</param>
    /// <param name="orders">The sample order of every epoch, one after another, as exported.</param>
    public static void Write(string folder, TrainingOptions options, Dataset train, Network network, int[] orders, int steps)
    {
        if (options.Schedule != "constant" || options.Warmup > 0)
            throw new ArgumentException($"e2e: the step check supports only a constant learning rate, not schedule '{options.Schedule}' with warm-up {options.Warmup}; pass --check-steps 0 to skip it");

        string check = Path.Combine(folder, "check");
        Directory.CreateDirectory(Path.Combine(check, "forward"));
        Directory.CreateDirectory(Path.Combine(check, "backward"));

        var loss = Loss.FromName(options.Loss);
        var optimizer = TrainingRun.BuildOptimizer(options, network.Parameters);
        using var workers = new WorkerPool(TrainingRun.ThreadCount(options));
        network.Workers = workers;

        int batchSize = Math.Min(options.BatchSize, train.Count);
        int sampleSize = train.SampleShape.Size;
        int batches = (train.Count + batchSize - 1) / batchSize;
        steps = Math.Min(steps, batches * options.Epochs);
        var input = new Tensor(train.SampleShape.WithBatch(batchSize));
        var outputGradient = new Tensor(network.OutputShape.WithBatch(batchSize));
        var labels = new byte[batchSize];
        var weights = new float[steps * network.ParameterValues.Length];

        try
        {
            for (int step = 0; step < steps; step++)
            {
                int epoch = step / batches;
                int start = step % batches * batchSize;
                int n = Math.Min(batchSize, train.Count - start);
                var order = orders.AsSpan(epoch * train.Count + start, n);
                input.Reshape(train.SampleShape.WithBatch(n));
                for (int i = 0; i < n; i++)
                {
                    train.Sample(order[i]).CopyTo(input.Span.Slice(i * sampleSize, sampleSize));
                    labels[i] = train.Labels[order[i]];
                }

                if (step == 0)
                {
                    WriteFirstStep(check, network, loss, input, labels.AsSpan(0, n), outputGradient);
                }
                else
                {
                    var output = network.Forward(input, training: true);
                    loss.Compute(output, labels.AsSpan(0, n), outputGradient);
                    network.Backward(outputGradient);
                }
                optimizer.Step();
                network.ParameterValues.CopyTo(weights, step * network.ParameterValues.Length);
            }
        }
        finally
        {
            network.Workers = null;
        }
        NpyFile.Write(Path.Combine(check, "weights.npy"), weights, steps, network.ParameterValues.Length);
    }

    /// <summary>Runs the forward and backward pass of step 1 one layer at a time and saves every value.</summary>
    private static void WriteFirstStep(string check, Network network, Loss loss, Tensor input, ReadOnlySpan<byte> labels, Tensor outputGradient)
    {
        var layers = network.Layers;
        Tensor y = input;
        for (int i = 0; i < layers.Count; i++)
        {
            y = layers[i].Forward(y, training: true);
            NpyFile.Write(LayerFile(check, "forward", i, layers[i]), y.Span, y.Shape.ToArray());
        }

        double value = loss.Compute(y, labels, outputGradient);
        NpyFile.Write(Path.Combine(check, "loss.npy"), new[] { value }, 1);

        Tensor? dy = outputGradient;
        for (int i = layers.Count - 1; i >= 0 && dy is not null; i--)
        {
            NpyFile.Write(LayerFile(check, "backward", i, layers[i]), dy.Span, dy.Shape.ToArray());
            dy = layers[i].Backward(dy);
        }
        NpyFile.Write(Path.Combine(check, "gradients.npy"), network.ParameterGradients, network.ParameterGradients.Length);
    }

    private static string LayerFile(string check, string pass, int index, Layers.Layer layer) =>
        Path.Combine(check, pass, $"{index:D2}_{layer.Name}.npy");
}

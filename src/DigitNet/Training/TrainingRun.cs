using DigitNet.Data;
using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Optimizers;
using DigitNet.Tensors;

namespace DigitNet.Training;

/// <summary>Everything a finished run produced: the trained network, how to prepare its input, and its metrics.</summary>
public sealed record RunOutcome(
    TrainingOptions Options,
    Network Network,
    Preprocessing Preprocessing,
    Loss Loss,
    TrainingResult Training,
    EvaluationResult Test);

/// <summary>
/// One training run from <see cref="TrainingOptions"/> to test metrics: fit the input scaling on
/// the training split, build and initialise the network, train with validation-based selection,
/// then evaluate once on the test split.
/// </summary>
public static class TrainingRun
{
    /// <summary>The architecture the options describe, for inputs of <paramref name="inputShape"/>.</summary>
    public static Architecture BuildArchitecture(TrainingOptions options, TensorShape inputShape, int classes)
    {
        if (options.Layers is not null)
            return Architecture.Parse(inputShape, options.Layers);

        // Squared error is taken on sigmoid outputs, as in the classic network. Cross-entropy is
        // fused with softmax on raw logits, so its output layer has no activation.
        string? outputActivation = options.Loss == "mse" ? "sigmoid" : null;
        return Architecture.Mlp(inputShape, options.Hidden, options.Activation, classes, outputActivation, options.Dropout, options.Bias);
    }

    /// <summary>The optimiser the options describe, over <paramref name="parameters"/>.</summary>
    public static Optimizer BuildOptimizer(TrainingOptions options, IReadOnlyList<Parameter> parameters) => options.Optimizer switch
    {
        "sgd" => new Sgd(parameters, options.LearningRate, options.Momentum, ParseMomentumKind(options.MomentumKind), options.WeightDecay),
        "adam" => new Adam(parameters, options.LearningRate, weightDecay: options.WeightDecay),
        "adamw" => new Adam(parameters, options.LearningRate, weightDecay: options.WeightDecay, decoupledDecay: true),
        _ => throw new OptionException($"--optimizer: invalid value '{options.Optimizer}'; expected sgd, adam or adamw"),
    };

    /// <summary>Parses an initialisation name.</summary>
    public static WeightInit ParseInit(string name) => name switch
    {
        "normal" => WeightInit.Normal,
        "xavier" => WeightInit.Xavier,
        "he" => WeightInit.He,
        _ => throw new OptionException($"--init: invalid value '{name}'; expected normal, xavier or he"),
    };

    /// <summary>
    /// Returns the option that describes the network: --layers when it is set, else --hidden. The
    /// other perceptron settings are checked when they are read, so only a layer list or the hidden
    /// sizes can fail when the network is built.
    /// </summary>
    private static string NetworkOption(TrainingOptions options) => options.Layers is not null ? "--layers" : "--hidden";

    private static MomentumKind ParseMomentumKind(string name) => name switch
    {
        "classic" => MomentumKind.Classic,
        "nesterov" => MomentumKind.Nesterov,
        "average" => MomentumKind.Average,
        _ => throw new OptionException($"--momentum-kind: invalid value '{name}'; expected classic, nesterov or average"),
    };

    /// <summary>Worker threads the options ask for (0 means one per processor).</summary>
    public static int ThreadCount(TrainingOptions options) =>
        options.Threads > 0 ? options.Threads : Environment.ProcessorCount;

    /// <summary>
    /// Returns the number of samples a run trains on, with <paramref name="originalCount"/> samples
    /// in the training split and one more of each per rotated copy, and for messages what the
    /// count is made of, such as "5000 plus 5000 rotated copies" (null without copies).
    /// </summary>
    public static (int Count, string? Detail) TrainingSamples(TrainingOptions options, int originalCount)
    {
        int copies = options.RotatedCopies.Count;
        return copies == 0
            ? (originalCount, null)
            : (originalCount * (copies + 1), $"{originalCount} plus {originalCount * copies} rotated copies");
    }

    /// <summary>
    /// Applies every check that <see cref="Run"/> makes on <paramref name="options"/> before it
    /// trains, and returns the network they describe, not yet initialised. Callers that start many
    /// runs, such as a sweep, call it first so that no run fails on its settings after others have trained.
    /// </summary>
    /// <param name="options">The settings of the run.</param>
    /// <param name="inputShape">Shape of one raw input sample, such as <c>[1, 16, 16]</c>.</param>
    /// <param name="classes">Number of classes in the data.</param>
    /// <param name="trainCount">Samples in the training split, before any rotated copies are added.</param>
    /// <exception cref="OptionException">
    /// The settings describe no valid network for the data, a network that does not fit the loss,
    /// or a batch size that leaves a training batch too small for a layer. A network error starts
    /// with the option that describes the network, "--layers: " or "--hidden: ", so that a caller
    /// can name a configuration key in its place.
    /// </exception>
    public static Network CheckSettings(TrainingOptions options, TensorShape inputShape, int classes, int trainCount)
    {
        _ = Preprocessing.ParseKind(options.Scaling);

        Architecture architecture;
        Network network;
        try
        {
            architecture = BuildArchitecture(options, inputShape, classes);
            network = new Network(architecture);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new OptionException($"{NetworkOption(options)}: {e.Message}");
        }
        if (network.ClassCount != classes)
            throw new OptionException($"{NetworkOption(options)}: the last layer outputs {network.ClassCount} values but the data has {classes} classes");

        // Squared error on raw scores trains to chance level, so a layer list used with it must
        // end in a sigmoid, as the perceptron built from --hidden does.
        if (options.Layers is not null && options.Loss == "mse" && architecture.Layers[^1].Kind != "sigmoid")
            throw new OptionException($"--layers: with --loss mse the layer list must end in 'sigmoid' (it ends in '{architecture.Layers[^1]}'); append ', sigmoid' or use --loss cross-entropy");

        var samples = TrainingSamples(options, trainCount);
        Trainer.CheckBatchSize(network, options.BatchSize, samples.Count, samples.Detail);

        _ = ParseInit(options.Init);
        _ = Loss.FromName(options.Loss);
        _ = BuildOptimizer(options, network.Parameters);
        return network;
    }

    /// <summary>
    /// Trains on <paramref name="data"/> (raw pixels) as <paramref name="options"/> set out and evaluates
    /// the selected weights on the test split.
    /// </summary>
    /// <exception cref="OptionException">
    /// The settings fail a check of <see cref="CheckSettings"/>, which runs before training starts.
    /// </exception>
    public static RunOutcome Run(
        TrainingOptions options, DataSplits data,
        IProgress<BatchProgress>? batchProgress = null, Action<EpochMetrics>? epochCompleted = null,
        Func<TrainingOptions, Dataset, Preprocessing, IAugmentation?>? augmentationFactory = null,
        CancellationToken cancellation = default)
    {
        var network = CheckSettings(options, data.Train.SampleShape, data.Train.ClassCount, data.Train.Count);

        // Rotated copies join the raw training split before the scaling is fitted; validation and test stay as they are.
        var rawTrain = Data.Augmentation.RotatedCopies.Append(data.Train, options.RotatedCopies);
        var preprocessing = Preprocessing.Fit(Preprocessing.ParseKind(options.Scaling), rawTrain);
        var train = preprocessing.Apply(rawTrain);
        var valid = preprocessing.Apply(data.Valid);
        var test = preprocessing.Apply(data.Test);

        var random = new RunRandom(options.Seed);
        network.Initialize(ParseInit(options.Init), random.Initialization);
        network.SetDropoutRandom(random.Dropout);

        var loss = Loss.FromName(options.Loss);
        var optimizer = BuildOptimizer(options, network.Parameters);
        using var workers = new WorkerPool(ThreadCount(options));
        network.Workers = workers;
        try
        {
            var trainer = new Trainer(network, loss, optimizer, options, random)
            {
                Augmentation = augmentationFactory?.Invoke(options, train, preprocessing),
                BatchProgress = batchProgress,
                EpochCompleted = epochCompleted,
            };
            var result = trainer.Fit(train, valid, cancellation);
            var testResult = new Evaluator(network, loss).Evaluate(test);
            return new RunOutcome(options, network, preprocessing, loss, result, testResult);
        }
        finally
        {
            network.Workers = null;
        }
    }
}

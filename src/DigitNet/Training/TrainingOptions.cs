namespace DigitNet.Training;

/// <summary>
/// Every setting of a training run: data, architecture, optimiser, schedule and stopping rule.
/// The command line, JSON configuration files and sweeps all fill this one record through
/// <see cref="TrainingOptionTable"/>, which also documents each setting. Defaults reproduce the
/// classic baseline: 256-50-10 sigmoid network, squared error, learning rate 0.2, per-sample
/// updates, 10 epochs.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Path of the digits.mat file; null means the default search.</summary>
    public string? Data { get; init; }

    /// <summary>Input scaling: <c>none</c>, <c>scale255</c>, <c>classic</c> or <c>standardize</c>.</summary>
    public string Scaling { get; init; } = "scale255";

    /// <summary>Hidden layer sizes of the multilayer perceptron (ignored when <see cref="Layers"/> is set).</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [50];

    /// <summary>Hidden activation: <c>sigmoid</c>, <c>tanh</c> or <c>relu</c>.</summary>
    public string Activation { get; init; } = "sigmoid";

    /// <summary>Loss: <c>mse</c> (sigmoid outputs) or <c>cross-entropy</c> (softmax on logits).</summary>
    public string Loss { get; init; } = "mse";

    /// <summary>Explicit layer list (e.g. <c>"conv 16 5x5 pad=2, relu, dense 10"</c>); overrides the MLP settings.</summary>
    public string? Layers { get; init; }

    /// <summary>Whether dense layers of the MLP have a bias.</summary>
    public bool Bias { get; init; } = true;

    /// <summary>Drop probability after each hidden layer of the MLP (0 disables dropout).</summary>
    public double Dropout { get; init; }

    /// <summary>Weight initialisation: <c>normal</c>, <c>xavier</c> or <c>he</c>.</summary>
    public string Init { get; init; } = "normal";

    /// <summary>Optimiser: <c>sgd</c>, <c>adam</c> or <c>adamw</c>.</summary>
    public string Optimizer { get; init; } = "sgd";

    /// <summary>Base learning rate.</summary>
    public double LearningRate { get; init; } = 0.2;

    /// <summary>SGD momentum coefficient (0 disables momentum).</summary>
    public double Momentum { get; init; }

    /// <summary>SGD momentum form: <c>classic</c>, <c>nesterov</c> or <c>average</c>.</summary>
    public string MomentumKind { get; init; } = "classic";

    /// <summary>L2 weight decay coefficient.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Learning-rate schedule: <c>constant</c>, <c>step</c> or <c>cosine</c>.</summary>
    public string Schedule { get; init; } = "constant";

    /// <summary>Epochs between decays of the step schedule.</summary>
    public int StepEvery { get; init; } = 10;

    /// <summary>Factor applied at each decay of the step schedule.</summary>
    public double StepFactor { get; init; } = 0.1;

    /// <summary>Epochs of linear learning-rate warm-up at the start (may be fractional).</summary>
    public double Warmup { get; init; }

    /// <summary>Maximum number of epochs.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per update; 1 is per-sample SGD.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Epochs without validation improvement before stopping; 0 disables early stopping.</summary>
    public int Patience { get; init; }

    /// <summary>Validation metric for early stopping and best-epoch selection: <c>accuracy</c> or <c>loss</c>.</summary>
    public string StopOn { get; init; } = "accuracy";

    /// <summary>Seed of every random generator in the run.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Worker threads for the kernels; 0 means one per processor.</summary>
    public int Threads { get; init; }

    /// <summary>On-the-fly augmentation: <c>none</c>, <c>affine</c>, <c>elastic</c> or <c>affine+elastic</c>.</summary>
    public string Augment { get; init; } = "none";

    /// <summary>Maximum rotation of the affine augmentation, in degrees.</summary>
    public double Rotate { get; init; } = 12;

    /// <summary>Maximum shift of the affine augmentation, in pixels.</summary>
    public double Translate { get; init; } = 1.5;

    /// <summary>Maximum relative scale change of the affine augmentation (0.1 means 0.9x to 1.1x).</summary>
    public double Scale { get; init; } = 0.1;

    /// <summary>Extra training copies rotated by these angles in degrees (the fixed-rotation experiment); empty for none.</summary>
    public IReadOnlyList<double> RotatedCopies { get; init; } = [];
}

using DigitNet.Cli.Plotting;
using DigitNet.Data;
using DigitNet.Data.Augmentation;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>
/// <c>digitnet gallery</c>: draws training digits next to augmented versions of them, one row
/// per digit: the original, affine transforms, elastic distortions, both combined, and the fixed
/// rotated copies.
/// </summary>
public static class GalleryCommand
{
    private static readonly HashSet<string> Flags = ["help"];
    private static readonly double[] FixedAngles = [45, 90, 180];

    /// <summary>The training settings that <see cref="BuildGrid"/> reads; gallery rejects every other one.</summary>
    private static readonly string[] UsedSettings = ["data", "rotate", "translate", "scale", "seed"];

    /// <summary>Settings of gallery itself, which a --config file may give like the training settings.</summary>
    private static readonly string[] OwnSettings = ["variants"];

    private static readonly UnusableSettings Unusable = new("gallery",
        TrainingOptionTable.All.Select(option => option.Name).Except(UsedSettings).ToHashSet(StringComparer.Ordinal),
        $"uses only the settings {string.Join(", ", UsedSettings.Concat(OwnSettings).SkipLast(1))} and {UsedSettings.Concat(OwnSettings).Last()}");

    public static int Run(IReadOnlyList<string> args)
    {
        var line = CommandLine.Parse(args, Flags);
        if (line.TakeFlag("help"))
        {
            Console.Out.Write(Help());
            return 0;
        }
        string output = line.TakeRequiredPath("out", "FILE.png");
        var settings = TrainingSettings.Read(line, new TrainingOptions(), Unusable, OwnSettings);
        int variants = settings.TakeInt(line, "variants", 2, minimum: 1, maximum: 8);
        var options = settings.Options;
        line.RejectRemaining("gallery", []);
        if (line.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{line.Positionals[0]}'; gallery takes only options (see digitnet gallery --help)");
        string dataPath = DataLocator.Resolve(options.Data, settings.DataLabel);
        FileChecks.CheckDistinct(("--config", settings.ConfigPath), (settings.DataLabel, dataPath), ("--out", output));
        FileChecks.CheckWritable(output, "--out", "gallery.png");

        var train = DigitsMat.Load(dataPath).Train;
        var grid = BuildGrid(train, options, variants);
        grid.SavePng(output);
        Console.Out.WriteLine($"wrote {output}: {grid.Count} images, {grid.Columns} per row");
        return 0;
    }

    /// <summary>
    /// The gallery of the first training image of each class, in raw pixel values (0 is blank);
    /// augmentations draw from one generator seeded with <see cref="TrainingOptions.Seed"/>.
    /// </summary>
    public static ImageGrid BuildGrid(Dataset train, TrainingOptions options, int variants)
    {
        var identity = Preprocessing.Create(PreprocessingKind.None);
        var columns = new List<(string Caption, IAugmentation Augmentation)>();
        foreach (string kind in new[] { "affine", "elastic", "affine+elastic" })
        {
            var augmentation = AugmentationFactory.Create(options with { Augment = kind }, train, identity)!;
            for (int v = 0; v < variants; v++) columns.Add((kind == "affine+elastic" ? "both" : kind, augmentation));
        }

        var grid = new ImageGrid
        {
            Title = $"Augmented training digits (rotate {options.Rotate} deg, translate {options.Translate} px, scale {options.Scale}; " +
                    $"elastic alpha {AugmentationFactory.ElasticAlpha}, sigma {AugmentationFactory.ElasticSigma}; seed {options.Seed})",
            Columns = 1 + columns.Count + FixedAngles.Length,
            Scale = 4,
            ValueRange = (0, 255),
        };

        var random = new RandomSource(options.Seed, stream: 4);
        int height = train.SampleShape[1], width = train.SampleShape[2];
        var augmented = new float[train.SampleShape.Size];
        for (int digit = 0; digit < train.ClassCount; digit++)
        {
            int index = Array.IndexOf(train.Labels, (byte)digit);
            if (index < 0) continue;
            var original = train.Sample(index);
            grid.Add(original, width, height, $"digit {digit}");
            foreach (var (caption, augmentation) in columns)
            {
                augmentation.Apply(original, augmented, random);
                grid.Add(augmented, width, height, caption);
            }

            var single = new Dataset("gallery", train.SampleShape, original.ToArray(), [(byte)digit], train.ClassNames);
            var rotated = RotatedCopies.Append(single, FixedAngles);
            for (int copy = 0; copy < FixedAngles.Length; copy++)
                grid.Add(rotated.Sample(copy + 1), width, height, $"rot {FixedAngles[copy]}");
        }
        return grid;
    }

    private static string Help() =>
        """
        usage: digitnet gallery --out FILE.png [options]

        Draws the first training image of each digit next to augmented versions of it: affine
        transforms, elastic distortions, both combined, and copies rotated by 45, 90 and 180 degrees.

          --out FILE.png       PNG file to write
          --config FILE.json   read the settings below from a JSON object whose keys are their names
                               without the dashes, such as {"seed": 2, "variants": 3}; options on the
                               command line override it. A relative "data" path in the file is
                               resolved against the file's folder, after following symbolic links

        Settings:
          --variants N         augmented samples per kind and digit, 1 to 8 (default 2)
          --data PATH          digits.mat (default: $DIGITNET_DATA, then ./data/digits.mat)
          --rotate DEGREES     maximum rotation of the affine transform (default 12)
          --translate PIXELS   maximum shift of the affine transform (default 1.5)
          --scale FRACTION     maximum relative scale change of the affine transform (default 0.1)
          --seed N             seed of the augmentation generator (default 1)

        """;
}

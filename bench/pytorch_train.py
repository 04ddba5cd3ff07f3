"""Train a network in PyTorch exactly as DigitNet would, as the reference of the e2e benchmark.

The e2e mode of bench/DigitNet.Benchmarks writes the inputs of one run to a folder and calls
this script with the same settings DigitNet trains with:

  train_x.npy [N, 1, 16, 16] float32, train_y.npy [N] uint8   preprocessed training split
  test_x.npy, test_y.npy                                      preprocessed test split
  weights/NNN_<name>.npy                                      DigitNet's initial parameters, in order
  orders.npy [epochs, N] int32                                the sample order of every epoch
  check/                                                      DigitNet's first steps (StepCheck.cs)

The layer list uses DigitNet's syntax ("conv 16 3x3 pad=1, relu, maxpool 2, flatten, dense 10").
Losses are written out as DigitNet defines them: "mse" is the mean over the batch of
1/2 sum_k (y - onehot)^2 on the network output, "cross-entropy" is softmax cross-entropy on
logits, averaged over the batch. SGD with momentum m updates v = m v + g, w -= lr v, which is
torch.optim.SGD with dampening 0.

Timing covers the training loop only: batch gathering, forward, loss, backward and the
optimiser step, after a few warm-up batches on a copy of the network. Loading and evaluation
are excluded. Throughput is that of the median epoch, which a burst of load from other
processes during one epoch does not move. The last line of output is one JSON object with the
results.

With --check, the script first repeats the steps recorded in check/ from the same weights and
batches, in float32 and in float64. It compares the layer outputs, the loss and the gradients
of step 1, and the weights after every step, with DigitNet's. The float32 against float64
differences show the size of float32 rounding, so a DigitNet difference of the same size is
rounding too. The training run itself uses --dtype.

Example:
  python3 bench/pytorch_train.py --data /tmp/run --layers "dense 50, sigmoid, dense 10, sigmoid" \
      --loss mse --lr 0.2 --momentum 0 --batch-size 1 --epochs 10 --threads 2
"""
import argparse
import copy
import ctypes
import ctypes.util
import glob
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def parse_layers(text, input_shape):
    """Build an nn.Sequential from a DigitNet layer list for samples of input_shape (C, H, W).

    Returns the network and the positions of its modules that are DigitNet's layers, one for
    one. The other modules are the flatten steps that DigitNet's dense layer does by itself.
    """
    layers = []
    positions = []
    shape = tuple(input_shape)
    for item in text.split(","):
        tokens = item.split()
        kind, arguments = tokens[0], [t for t in tokens[1:] if "=" not in t]
        options = dict(t.split("=", 1) for t in tokens[1:] if "=" in t)
        positions.append(len(layers))
        if kind == "dense":
            if len(shape) > 1:
                layers.append(nn.Flatten())
                shape = (int(np.prod(shape)),)
                positions[-1] = len(layers)
            units = int(arguments[0])
            layers.append(nn.Linear(shape[0], units, bias=options.get("bias", "true") == "true"))
            shape = (units,)
        elif kind == "conv":
            out_channels = int(arguments[0])
            kernel_height, _, kernel_width = arguments[1].partition("x")
            kernel = (int(kernel_height), int(kernel_width or kernel_height))
            stride, padding = int(options.get("stride", 1)), int(options.get("pad", 0))
            layers.append(nn.Conv2d(shape[0], out_channels, kernel, stride=stride, padding=padding,
                                    bias=options.get("bias", "true") == "true"))
            height = (shape[1] + 2 * padding - kernel[0]) // stride + 1
            width = (shape[2] + 2 * padding - kernel[1]) // stride + 1
            shape = (out_channels, height, width)
        elif kind == "maxpool":
            size = int(arguments[0])
            stride, padding = int(options.get("stride", size)), int(options.get("pad", 0))
            layers.append(nn.MaxPool2d(size, stride=stride, padding=padding))
            shape = (shape[0], (shape[1] + 2 * padding - size) // stride + 1, (shape[2] + 2 * padding - size) // stride + 1)
        elif kind == "flatten":
            layers.append(nn.Flatten())
            shape = (int(np.prod(shape)),)
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "sigmoid":
            layers.append(nn.Sigmoid())
        elif kind == "tanh":
            layers.append(nn.Tanh())
        else:
            raise SystemExit(f"pytorch_train.py: layer kind '{kind}' in '{item.strip()}' is not supported here")
    return nn.Sequential(*layers), positions


def load_weights(network, folder):
    """Copy DigitNet's initial parameters (weights/NNN_name.npy, in parameter order) into the network."""
    files = sorted(glob.glob(os.path.join(folder, "weights", "*.npy")))
    parameters = list(network.parameters())
    if len(files) != len(parameters):
        raise SystemExit(f"pytorch_train.py: {len(files)} weight files for {len(parameters)} parameters; "
                         "the layer list does not match the exported network")
    with torch.no_grad():
        for path, parameter in zip(files, parameters):
            values = torch.from_numpy(np.load(path))
            if values.shape != parameter.shape:
                raise SystemExit(f"pytorch_train.py: {os.path.basename(path)} has shape {tuple(values.shape)}, "
                                 f"expected {tuple(parameter.shape)}")
            parameter.copy_(values)


def make_loss(name):
    if name == "mse":
        def squared_error(output, labels):
            targets = F.one_hot(labels, output.shape[1]).to(output.dtype)
            return 0.5 * ((output - targets) ** 2).sum(dim=1).mean()
        return squared_error
    if name == "cross-entropy":
        return F.cross_entropy
    raise SystemExit(f"pytorch_train.py: unknown loss '{name}'; expected mse or cross-entropy")


def openblas_core():
    """The kernel family of the OpenBLAS that torch loaded, or 'unknown'."""
    for name in ("libopenblas.so.0", ctypes.util.find_library("openblas")):
        if not name:
            continue
        try:
            library = ctypes.CDLL(name)
            library.openblas_get_corename.restype = ctypes.c_char_p
            return library.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return "unknown"


def relative_difference(values, reference):
    """Return the largest |values - reference| divided by the largest |reference|, or the plain difference when that is 0."""
    reference = np.asarray(reference, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64).reshape(reference.shape)
    difference = np.abs(values - reference).max()
    scale = np.abs(reference).max()
    return float(difference / scale) if scale > 0 else float(difference)


def flat_values(tensors):
    return torch.cat([t.detach().reshape(-1) for t in tensors]).numpy()


def record_steps(network, positions, loss_function, optimizer, train_x, train_y, orders, batch_size, steps):
    """Run the first `steps` batches as run_epoch does and record what StepCheck.cs writes.

    The batches run on from one epoch's order to the next. For step 1 the record keeps the output
    of every module at `positions`, the gradient of the loss with respect to it, the loss and the
    parameter gradients. After every step it keeps the parameters.
    """
    record = {"weights": []}
    batches = [order[start:start + batch_size] for order in orders for start in range(0, len(order), batch_size)]
    for step, batch in enumerate(batches[:steps]):
        optimizer.zero_grad(set_to_none=True)
        x = train_x[batch]
        outputs = []
        for module in network:
            x = module(x)
            if x.requires_grad:
                x.retain_grad()
            outputs.append(x)
        loss = loss_function(x, train_y[batch])
        loss.backward()
        if step == 0:
            record["layers"] = [outputs[p].detach().numpy() for p in positions]
            record["layer_gradients"] = [None if outputs[p].grad is None else outputs[p].grad.numpy()
                                         for p in positions]
            record["loss"] = loss.item()
            record["gradients"] = flat_values(p.grad for p in network.parameters())
        optimizer.step()
        record["weights"].append(flat_values(network.parameters()))
    return record


def load_digitnet_record(folder, layer_count):
    """Read the files that StepCheck.cs writes into `folder` into the form of record_steps."""
    layer_files = sorted(glob.glob(os.path.join(folder, "forward", "*.npy")))
    if len(layer_files) != layer_count:
        raise SystemExit(f"pytorch_train.py: {len(layer_files)} layer outputs in {folder} for {layer_count} layers")
    names = [os.path.basename(path)[:-4] for path in layer_files]
    # The first layer's input gradient is not computed, so a layer before the first parameter may have no file.
    gradient_files = [os.path.join(folder, "backward", os.path.basename(path)) for path in layer_files]
    return names, {
        "layers": [np.load(path) for path in layer_files],
        "layer_gradients": [np.load(path) if os.path.exists(path) else None for path in gradient_files],
        "loss": float(np.load(os.path.join(folder, "loss.npy"))[0]),
        "gradients": np.load(os.path.join(folder, "gradients.npy")),
        "weights": np.load(os.path.join(folder, "weights.npy")),
    }


def check_steps(network, positions, loss_function, make_optimizer, train_x, train_y, orders, batch_size, data):
    """Compare the first steps of DigitNet (the files in DATA/check) with PyTorch in float32 and float64.

    Prints the largest relative difference of every recorded value to standard error and returns
    a summary for the JSON result. The float32 against float64 column shows how large float32
    rounding alone makes the differences.
    """
    layer_names, digitnet = load_digitnet_record(os.path.join(data, "check"), len(positions))
    steps = digitnet["weights"].shape[0]
    records = []
    for dtype in (torch.float32, torch.float64):
        model = copy.deepcopy(network).to(dtype)
        records.append(record_steps(model, positions, loss_function, make_optimizer(model), train_x.to(dtype),
                                    train_y, orders, batch_size, steps))
    single, double = records

    def compare(values, reference32, reference64):
        """DigitNet against float32, DigitNet against float64, float32 against float64."""
        return (relative_difference(values, reference32), relative_difference(values, reference64),
                relative_difference(reference32, reference64))

    rows = []
    for index, name in enumerate(layer_names):
        rows.append((f"step 1 output of {name}",
                     *compare(digitnet["layers"][index], single["layers"][index], double["layers"][index])))
    rows.append(("step 1 loss", *compare(digitnet["loss"], single["loss"], double["loss"])))
    for index, name in reversed(list(enumerate(layer_names))):
        if digitnet["layer_gradients"][index] is not None and single["layer_gradients"][index] is not None:
            rows.append((f"step 1 gradient at the output of {name}", *compare(
                digitnet["layer_gradients"][index], single["layer_gradients"][index], double["layer_gradients"][index])))

    parameter_names = [os.path.basename(path)[4:-4] for path in sorted(glob.glob(os.path.join(data, "weights", "*.npy")))]
    bounds = np.cumsum([0] + [p.numel() for p in network.parameters()])
    slices = [slice(begin, end) for begin, end in zip(bounds[:-1], bounds[1:])]
    for name, part in zip(parameter_names, slices):
        rows.append((f"step 1 gradient of {name}",
                     *compare(digitnet["gradients"][part], single["gradients"][part], double["gradients"][part])))
    first_step = list(rows)

    # A step moves the weights by a small fraction of their size, so the change from the initial
    # weights shows whether the updates agree, where the weights themselves would hide it. After
    # step 1 the float32 rounding of the weights limits that agreement to about 1e-5.
    initial = flat_values(network.parameters()).astype(np.float64)
    change_rows = []
    for step in range(steps):
        worst = np.zeros(3)
        for part in slices:
            changes = [record[step][part] - initial[part]
                       for record in (digitnet["weights"], single["weights"], double["weights"])]
            worst = np.maximum(worst, compare(*changes))
        change_rows.append(worst.tolist())
    shown_steps = {steps} | {s for s in range(1, steps + 1) if s <= 10 or str(s).rstrip("0") in ("1", "2", "5")}
    rows += [(f"weight change after step {step} (largest over the parameters)", *change_rows[step - 1])
             for step in sorted(shown_steps)]

    print(f"Step check: largest difference relative to the largest magnitude, over {steps} step(s) "
          f"of {batch_size} samples from the exported weights", file=sys.stderr)
    print(f"  {'value':<62} {'DigitNet-f32':>12} {'DigitNet-f64':>12} {'f32-f64':>12}", file=sys.stderr)
    for name, *differences in rows:
        print(f"  {name:<62}" + "".join(f" {d:12.2e}" for d in differences), file=sys.stderr)

    # Without a suffix the differences are DigitNet's against PyTorch float32.
    return {
        "steps": steps,
        "first_step": max(row[1] for row in first_step),
        "first_step_float32_vs_float64": max(row[3] for row in first_step),
        "weight_change": [row[0] for row in change_rows],
        "weight_change_float64": [row[1] for row in change_rows],
        "weight_change_float32_vs_float64": [row[2] for row in change_rows],
    }


def run_epoch(network, optimizer, loss_function, train_x, train_y, order, batch_size):
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(network(train_x[batch]), train_y[batch])
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder written by the e2e mode")
    parser.add_argument("--layers", required=True, help="DigitNet layer list")
    parser.add_argument("--loss", required=True, choices=["mse", "cross-entropy"])
    parser.add_argument("--lr", type=float, required=True, help="learning rate")
    parser.add_argument("--momentum", type=float, default=0.0, help="SGD momentum coefficient")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True,
                        help="intra-op and inter-op threads (torch.set_num_threads, set_num_interop_threads)")
    parser.add_argument("--warmup-batches", type=int, default=20, help="batches run on a copy before timing")
    parser.add_argument("--check", action="store_true",
                        help="repeat the steps that the e2e mode recorded in DATA/check and compare them")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="floating-point type of the training run (the step check uses both)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)

    train_x = torch.from_numpy(np.load(os.path.join(args.data, "train_x.npy")))
    train_y = torch.from_numpy(np.load(os.path.join(args.data, "train_y.npy")).astype(np.int64))
    test_x = torch.from_numpy(np.load(os.path.join(args.data, "test_x.npy")))
    test_y = torch.from_numpy(np.load(os.path.join(args.data, "test_y.npy")).astype(np.int64))
    orders = torch.from_numpy(np.load(os.path.join(args.data, "orders.npy")).astype(np.int64))
    if orders.shape[0] < args.epochs:
        raise SystemExit(f"pytorch_train.py: orders.npy has {orders.shape[0]} epochs, --epochs is {args.epochs}")

    network, positions = parse_layers(args.layers, train_x.shape[1:])
    load_weights(network, args.data)
    loss_function = make_loss(args.loss)

    def make_optimizer(model):
        return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)

    check = None
    if args.check:
        check = check_steps(network, positions, loss_function, make_optimizer, train_x, train_y, orders,
                            args.batch_size, args.data)

    dtype = getattr(torch, args.dtype)
    network.to(dtype)
    train_x, test_x = train_x.to(dtype), test_x.to(dtype)

    # Warm-up on a copy, so the allocator and kernel choices settle without changing the run.
    warmup_network = copy.deepcopy(network)
    warmup_order = orders[0][:args.warmup_batches * args.batch_size]
    run_epoch(warmup_network, make_optimizer(warmup_network), loss_function, train_x, train_y,
              warmup_order, args.batch_size)

    optimizer = make_optimizer(network)
    network.train()
    epoch_seconds = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        last_loss = run_epoch(network, optimizer, loss_function, train_x, train_y, orders[epoch], args.batch_size)
        epoch_seconds.append(time.perf_counter() - start)

    network.eval()
    with torch.no_grad():
        predictions = network(test_x).argmax(dim=1)
    accuracy = (predictions == test_y).double().mean().item()

    print(json.dumps({
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "open_blas_core": openblas_core(),
        "epoch_seconds": epoch_seconds,
        "samples_per_second": len(train_y) / statistics.median(epoch_seconds),
        "test_accuracy": accuracy,
        "last_batch_loss": last_loss,
        "dtype": args.dtype,
        "check": check,
    }))


if __name__ == "__main__":
    main()

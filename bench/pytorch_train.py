"""Train a network in PyTorch exactly as DigitNet would, as the reference of the e2e benchmark.

The e2e mode of bench/DigitNet.Benchmarks writes the inputs of one run to a folder and calls
this script with the same settings DigitNet trains with:

  train_x.npy [N, 1, 16, 16] float32, train_y.npy [N] uint8   preprocessed training split
  test_x.npy, test_y.npy                                      preprocessed test split
  weights/NNN_<name>.npy                                      DigitNet's initial parameters, in order
  orders.npy [epochs, N] int32                                the sample order of every epoch

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
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def parse_layers(text, input_shape):
    """Build an nn.Sequential from a DigitNet layer list for samples of input_shape (C, H, W)."""
    layers = []
    shape = tuple(input_shape)
    for item in text.split(","):
        tokens = item.split()
        kind, arguments = tokens[0], [t for t in tokens[1:] if "=" not in t]
        options = dict(t.split("=", 1) for t in tokens[1:] if "=" in t)
        if kind == "dense":
            if len(shape) > 1:
                layers.append(nn.Flatten())
                shape = (int(np.prod(shape)),)
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
    return nn.Sequential(*layers)


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

    network = parse_layers(args.layers, train_x.shape[1:])
    load_weights(network, args.data)
    loss_function = make_loss(args.loss)

    def make_optimizer(model):
        return torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)

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
    }))


if __name__ == "__main__":
    main()

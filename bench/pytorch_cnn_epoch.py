"""Time one training epoch of the benchmark CNN in PyTorch, as the reference for DigitNet.

The network is the one in docs/architectures.md under "Benchmark network":
conv 16 3x3 pad=1, relu, maxpool 2, conv 32 3x3 pad=1, relu, maxpool 2,
conv 64 3x3 pad=1, relu, maxpool 2, flatten (64x2x2 = 256), dense 128, relu, dense 10,
trained with softmax cross-entropy and plain SGD on 5000 random 1x16x16 images.
Synthetic data is enough because the time does not depend on the pixel values.

Usage: python3 bench/pytorch_cnn_epoch.py [--threads 2] [--batch-size 64] [--epochs 5]
Prints the seconds of each epoch and the median. Measured with Debian's python3-torch 1.13.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn


def build_network():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads (torch.set_num_threads)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--samples", type=int, default=5000, help="images per epoch")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs after one warm-up epoch")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = torch.rand(args.samples, 1, 16, 16)
    labels = torch.randint(0, 10, (args.samples,))
    network = build_network()
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01, momentum=0.9)
    loss_function = nn.CrossEntropyLoss()

    def run_epoch():
        order = torch.randperm(args.samples)
        start = time.perf_counter()
        for begin in range(0, args.samples, args.batch_size):
            batch = order[begin:begin + args.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(network(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start

    run_epoch()  # warm-up: allocator and kernel selection
    seconds = [run_epoch() for _ in range(args.epochs)]
    print("torch", torch.__version__, "threads", torch.get_num_threads(), "batch size", args.batch_size)
    print("epoch seconds:", " ".join(f"{s:.3f}" for s in seconds))
    print(f"median {statistics.median(seconds):.3f} s per epoch of {args.samples} images")


if __name__ == "__main__":
    main()

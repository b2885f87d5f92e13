"""PyTorch's training step on the GPU, timed the way bench/gpu_step.cpp times tether's:
synthetic data on the device, forward + backward + SGD step, fp32 and tf32, eager and (for
the small MLP) captured in a CUDA graph. One line per configuration:
  pytorch <model> batch <B> <math> <mode>: <us> us per step
"""
import time

import torch

def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).cuda()

def run(sizes, batch, tf32, graph, steps=200):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    net = mlp(sizes)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x = torch.randn(batch, sizes[0], device="cuda")
    y = torch.randint(0, sizes[-1], (batch,), device="cuda")
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    torch.cuda.synchronize()
    if graph:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(side)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            step()
        call = g.replay
    else:
        call = step
    for _ in range(10):
        call()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        call()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps * 1e6

print(f"pytorch {torch.__version__} on {torch.cuda.get_device_name()}")
for sizes, batch in (([784, 256, 128, 10], 64), ([784, 4096, 4096, 10], 1024)):
    name = "-".join(map(str, sizes))
    for tf32 in (False, True):
        for graph in (False, True):
            us = run(sizes, batch, tf32, graph)
            print(f"pytorch {name} batch {batch} {'tf32' if tf32 else 'fp32'} "
                  f"{'graph' if graph else 'eager'}: {us:.1f} us per step")

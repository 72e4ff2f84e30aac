"""The compiled Karel VM: every episode runs its program natively to its end, on the CPU or on CUDA.

One VM, written once as plain Python functions over arrays and scalars and compiled by numba for each
target (`build`): `ops` (the constants, pinned to the Python enums by the tests), `grid` (perceptions,
marker changes, the loop-key hash), `rules` (every task family's rules, the compiled twin of
`karel/tasks/*.py`), `machine` (the episode loop and the exact loop detector). `cpu` runs it over the CPU
threads, `cuda` as a CUDA kernel (one thread per episode, on torch CUDA tensors; under
`NUMBA_ENABLE_CUDASIM=1` in numba's CUDA simulator on host arrays). `pack` turns task instances into the
rules' arrays. Import the target module you need (`karel.vm.cpu`, `karel.vm.cuda`); this package imports
no compiler.
"""

package slim.tornado;

/**
 * One kernel launch as TornadoKernels records it: the kernel, its parameters (sizes, arena offsets and
 * index lists; floats such as eps), and its work-items in groups of local.
 */
record Call(Op op, int[] ints, float[] floats, long work, int local) {}

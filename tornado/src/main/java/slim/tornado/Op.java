package slim.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task11;

/**
 * The device kernels, one per kind of launch TornadoKernels makes as each call comes (a kernel call
 * may launch several): the code, and whether its call carries an index list.
 */
enum Op {
    EMBEDDING_FORWARD(DeviceKernels::embeddingForward, true),
    EMBEDDING_BACKWARD(DeviceKernels::embeddingBackward, true),
    LAYER_NORM_FORWARD(DeviceKernels::layerNormForward, false),
    LAYER_NORM_BACKWARD_INPUT(DeviceKernels::layerNormBackwardInput, false),
    LAYER_NORM_BACKWARD_WEIGHTS(DeviceKernels::layerNormBackwardWeights, false),
    RMS_NORM_FORWARD(DeviceKernels::rmsNormForward, false),
    RMS_NORM_BACKWARD_INPUT(DeviceKernels::rmsNormBackwardInput, false),
    RMS_NORM_BACKWARD_WEIGHTS(DeviceKernels::rmsNormBackwardWeights, false),
    MATMUL_FORWARD(DeviceKernels::matmulForward, false),
    MATMUL_FORWARD_ROWS(DeviceKernels::matmulForwardRows, false),
    MATMUL_FORWARD_ROWS_EIGHTS(DeviceKernels::matmulForwardRowsEights, false),
    MATMUL_FORWARD_REGISTERS(DeviceKernels::matmulForwardRegisters, false),
    MATMUL_BACKWARD_INPUT(DeviceKernels::matmulBackwardInput, false),
    MATMUL_BACKWARD_INPUT_COLUMNS(DeviceKernels::matmulBackwardInputColumns, false),
    MATMUL_BACKWARD_INPUT_REGISTERS(DeviceKernels::matmulBackwardInputRegisters, false),
    MATMUL_BACKWARD_INPUT_PARTS(DeviceKernels::matmulBackwardInputParts, false),
    SUM_PARTS(DeviceKernels::sumParts, false),
    MATMUL_BACKWARD_WEIGHTS(DeviceKernels::matmulBackwardWeights, false),
    MATMUL_BACKWARD_WEIGHTS_REGISTERS(DeviceKernels::matmulBackwardWeightsRegisters, false),
    MATMUL_BACKWARD_BIAS(DeviceKernels::matmulBackwardBias, false),
    ATTENTION_FORWARD(DeviceKernels::attentionForward, false),
    ATTENTION_BACKWARD_SCORES(DeviceKernels::attentionBackwardScores, false),
    ATTENTION_BACKWARD_QUERY(DeviceKernels::attentionBackwardQuery, false),
    ATTENTION_BACKWARD_KEY_VALUE(DeviceKernels::attentionBackwardKeyValue, false),
    ROPE(DeviceKernels::rope, false),
    ACTIVATION_FORWARD(DeviceKernels::activationForward, false),
    ACTIVATION_BACKWARD(DeviceKernels::activationBackward, false),
    SWIGLU_FORWARD(DeviceKernels::swigluForward, false),
    SWIGLU_BACKWARD(DeviceKernels::swigluBackward, false),
    ADD(DeviceKernels::add, false),
    MULTIPLY(DeviceKernels::multiply, false),
    DROPOUT_MASK(DeviceKernels::dropoutMask, false),
    ZERO(DeviceKernels::zero, false),
    COPY(DeviceKernels::copy, false),
    GATHER_ROWS(DeviceKernels::gatherRows, true),
    GATHER_WEIGHT_ROWS(DeviceKernels::gatherWeightRows, true),
    SCATTER_ADD_ROWS(DeviceKernels::scatterAddRows, true),
    MEAN_ROWS_FORWARD(DeviceKernels::meanRowsForward, false),
    MEAN_ROWS_BACKWARD(DeviceKernels::meanRowsBackward, false),
    CROSS_ENTROPY_FORWARD(DeviceKernels::crossEntropyForward, true),
    CROSS_ENTROPY_BACKWARD(DeviceKernels::crossEntropyBackward, true),
    ADAMW(DeviceKernels::adamw, false),
    ADAMW_EIGHTS(DeviceKernels::adamwEights, false),
    ADAMW_OUTER_PRODUCT(DeviceKernels::adamwOuterProduct, false),
    ADAMW_OUTER_PRODUCT_EIGHTS(DeviceKernels::adamwOuterProductEights, false);

    /**
     * The one kernel signature: context, the five arenas (activations, parameters, gradients, AdamW's first
     * and second moments; see DevicePlan.Bank), an auxiliary buffer (the staging buffer of a transfer), ints,
     * floats, and where the call's ints and floats start.
     */
    interface Code
            extends Task11<
                    KernelContext,
                    float[],
                    float[],
                    float[],
                    float[],
                    float[],
                    float[],
                    int[],
                    float[],
                    Integer,
                    Integer> {}

    final Code code;
    /** Carries an index list (token ids, rows, targets) whose length changes from call to call. */
    final boolean variableInts;

    Op(Code code, boolean variableInts) {
        this.code = code;
        this.variableInts = variableInts;
    }
}

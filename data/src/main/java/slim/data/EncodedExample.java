package slim.data;

/** Model input for one example: the token ids (specials included) and its class index. */
public record EncodedExample(int[] ids, int label) {}

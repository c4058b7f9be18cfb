package dev.rlkafka.policy.weights;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.schemas.Sha256;

import java.nio.file.Files;
import java.nio.file.Path;

/** Run in a separate JVM by {@link WeightCodecTest}: decodes a weight file, prints what the parent compares. */
public final class DecodeMain {

    public static void main(String[] args) throws Exception {
        byte[] bytes = Files.readAllBytes(Path.of(args[0]));
        try (Policy policy = WeightCodec.decode(bytes, Device.cpu())) {
            System.out.println("sha256=" + Sha256.hex(WeightCodec.encode(policy)));
            System.out.println("logitsSum=" + logitsSum(policy));
        }
    }

    /** Σ logits of a fixed input: a checksum of the forward pass on these weights. */
    static double logitsSum(Policy policy) {
        try (NDManager step = policy.manager().newSubManager()) {
            return policy.logits(step.create(new long[] {256, '1', '2', '+', '3', '='}, new Shape(1, 6)))
                    .toType(ai.djl.ndarray.types.DataType.FLOAT64, false).sum().getDouble();
        }
    }
}

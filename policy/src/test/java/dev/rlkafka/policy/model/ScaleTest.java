package dev.rlkafka.policy.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class ScaleTest {

    /**
     * The constant must outlive the forward op: between forward and backward the garbage collector runs and the
     * freed small blocks are handed out again, filled with 7s. Written as DJL's {@code x.mul(3)}, the backward
     * pass read a freed block: the gradient came out 0 instead of 3.
     */
    @Test
    void theGradientSeesTheConstantAfterGarbageCollection() throws Exception {
        Engine.getInstance();
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.create(new float[] {1, 2, 3, 4});
            x.setRequiresGradient(true);
            for (int attempt = 0; attempt < 20; attempt++) {
                try (NDManager step = manager.newSubManager(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    step.tempAttachAll(x);
                    NDArray y = Scale.by(x, 3).sum();
                    churn();
                    collector.backward(y);
                    try (NDArray gradient = x.getGradient()) {
                        assertArrayEquals(new float[] {3, 3, 3, 3}, gradient.toFloatArray(), "attempt " + attempt);
                        gradient.subi(gradient);
                    }
                }
            }
        }
    }

    /** Lets the GC free unreachable direct buffers, then allocates many small ones holding 7.0f. */
    private static void churn() throws InterruptedException {
        System.gc();
        Thread.sleep(20);   // the cleaner thread frees the native memory after the collection
        List<ByteBuffer> reuse = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) reuse.add(ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder()).putFloat(0, 7f));
        reuse.clear();
    }
}

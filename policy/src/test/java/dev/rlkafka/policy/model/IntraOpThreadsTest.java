package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the services rely on when they share one JVM: {@link Policy#setIntraOpThreads} sets the calling thread's
 * libtorch thread count, and a thread that never set one takes whatever any thread set last, so every thread
 * that runs the model sets its own.
 */
class IntraOpThreadsTest {
    @Test
    void eachThreadKeepsItsOwnCountAndOneThatSetNoneTakesTheLastSet() throws Exception {
        ExecutorService trainer = thread("test-trainer"), generator = thread("test-generator"), other = thread("test-other");
        try {
            on(trainer, () -> {
                Policy.setIntraOpThreads(2);
                return work();
            });
            on(generator, () -> {
                Policy.setIntraOpThreads(1);
                return work();
            });
            assertEquals(2, (int) on(trainer, () -> {
                work();
                return JniUtils.getNumThreads();
            }), "the generator's setting did not change the trainer's");
            assertEquals(1, (int) on(generator, JniUtils::getNumThreads));
            assertEquals(1, (int) on(other, () -> {
                work();
                return JniUtils.getNumThreads();
            }), "a thread that set nothing has the last value set anywhere");
        } finally {
            trainer.shutdownNow();
            generator.shutdownNow();
            other.shutdownNow();
        }
    }

    /** A few ops big enough for libtorch to parallelise. */
    private static float work() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomNormal(new Shape(256, 256));
            return a.matMul(a).add(a).exp().sum().getFloat();
        }
    }

    private static ExecutorService thread(String name) {
        return Executors.newSingleThreadExecutor(r -> new Thread(r, name));
    }

    private static <T> T on(ExecutorService thread, Callable<T> work) throws Exception {
        return thread.submit(work).get();
    }
}

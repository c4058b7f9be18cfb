package dev.rlkafka.policy.optim;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.Map;
import java.util.function.Function;

/** Bare parameters and gradients set to chosen values, for optimiser tests. */
final class OptimTestSupport {

    private OptimTestSupport() {}

    static Parameter param(String name, NDArray value) {
        Parameter param = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        value.setRequiresGradient(true);
        param.setArray(value);
        return param;
    }

    /** Runs one backward pass of {@code loss}; gradients add to whatever is already there, as in DJL. */
    static void backward(NDManager manager, Function<NDManager, NDArray> loss) {
        try (NDManager step = manager.newSubManager();
             GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(loss.apply(step));
        }
    }

    /** Sets each parameter's gradient to {@code gradients[name]} via the loss Σ θ·c (dL/dθ = c). */
    static void setGradients(NDManager manager, Map<String, Parameter> params, Map<String, float[]> gradients) {
        params.values().forEach(p -> {
            try (NDArray g = p.getArray().getGradient()) {
                g.subi(g);
            }
        });
        backward(manager, step -> {
            NDArray loss = step.zeros(new Shape());
            for (var e : gradients.entrySet()) {
                NDArray theta = params.get(e.getKey()).getArray();
                loss = loss.add(theta.mul(step.create(e.getValue(), theta.getShape())).sum());
            }
            return loss;
        });
    }
}

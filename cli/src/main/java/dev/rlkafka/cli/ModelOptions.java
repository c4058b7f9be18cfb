package dev.rlkafka.cli;

import ai.djl.Device;
import dev.rlkafka.policy.model.ModelConfig;
import picocli.CommandLine.Option;

/** Model shape and device, shared by the commands that create a policy. */
final class ModelOptions {
    @Option(names = "--width", defaultValue = "" + ModelConfig.DEFAULT_WIDTH,
            description = "Residual stream width (default: ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--layers", defaultValue = "" + ModelConfig.DEFAULT_LAYERS,
            description = "Transformer blocks (default: ${DEFAULT-VALUE}).")
    int layers;

    @Option(names = "--heads", defaultValue = "" + ModelConfig.DEFAULT_HEADS,
            description = "Attention heads; must divide --width (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--context", defaultValue = "" + ModelConfig.DEFAULT_CONTEXT,
            description = "Context length in tokens, prompt + completion (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--device", defaultValue = "cpu",
            description = "cpu or gpu (default: ${DEFAULT-VALUE}); the same code runs on either.")
    String device;

    ModelConfig modelConfig() {
        return new ModelConfig(ModelConfig.DEFAULT.vocabSize(), context, width, layers, heads);
    }

    Device device() {
        return switch (device) {
            case "cpu" -> Device.cpu();
            case "gpu" -> Device.gpu();
            default -> throw new IllegalArgumentException("--device must be cpu or gpu, got '" + device + "'");
        };
    }
}

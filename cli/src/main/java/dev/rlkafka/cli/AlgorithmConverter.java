package dev.rlkafka.cli;

import dev.rlkafka.policy.train.Algorithm;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Arrays;
import java.util.Iterator;

/** {@code --algorithm grpo|ppo|dpo}: lower-case ids, the error lists the choices. */
final class AlgorithmConverter implements ITypeConverter<Algorithm> {
    @Override
    public Algorithm convert(String value) {
        try {
            return Algorithm.byId(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /** The ids, for {@code ${COMPLETION-CANDIDATES}} in help texts. */
    static final class Names implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(Algorithm.values()).map(Algorithm::id).iterator();
        }
    }
}

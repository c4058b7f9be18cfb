package dev.rlkafka.schemas;

import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BooleanSupplier;

/**
 * Kafka's rule for a transactional producer call that timed out. {@code sendOffsetsToTransaction},
 * {@code commitTransaction} and {@code abortTransaction} throw {@link TimeoutException} when the coordinator does
 * not answer within {@code max.block.ms}, but the call may still complete on the broker, so the producer then
 * allows only the same call again: an abort after a timed-out commit throws {@link IllegalStateException}
 * ("... timed out and must be retried"). A service that aborted there, or gave up, stopped on any broker outage
 * longer than {@code max.block.ms}; retrying makes it wait the outage out.
 */
public final class TimedOutCalls {
    private static final Logger log = LoggerFactory.getLogger(TimedOutCalls.class);

    private TimedOutCalls() {
    }

    /**
     * Runs {@code call} until it returns, again after each {@link TimeoutException} while {@code keepTrying} holds.
     *
     * @param what       the call, for the log, e.g. "generator-1: committing a batch of 128 rollouts"
     * @param keepTrying asked after each timeout; false (e.g. the service is closing) rethrows that timeout
     * @throws TimeoutException the last timeout, once {@code keepTrying} is false
     */
    public static void retry(String what, Runnable call, BooleanSupplier keepTrying) {
        for (int attempt = 1; ; attempt++) {
            try {
                call.run();
                if (attempt > 1) log.info("{} succeeded at attempt {}", what, attempt);
                return;
            } catch (TimeoutException e) {
                if (!keepTrying.getAsBoolean()) throw e;
                log.warn("{} timed out (attempt {}: {}); retrying the same call, as Kafka requires", what, attempt, e.getMessage());
            }
        }
    }
}

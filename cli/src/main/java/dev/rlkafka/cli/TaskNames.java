package dev.rlkafka.cli;

import dev.rlkafka.policy.task.Tasks;

import java.util.Iterator;

/** The registered task names, for picocli's ${COMPLETION-CANDIDATES}. */
final class TaskNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
        return Tasks.names().iterator();
    }
}

package dev.rlkafka.policy.task;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/** Registry of the built-in tasks by name, with their default settings. */
public final class Tasks {

    public static final String DEFAULT = ArithmeticTask.NAME;

    private static final Map<String, Supplier<Task>> BY_NAME = new TreeMap<>(Map.of(
            ArithmeticTask.NAME, ArithmeticTask::new,
            ReverseTask.NAME, ReverseTask::new));

    private Tasks() {}

    /** The task called {@code name} with default settings; an unknown name fails listing the known ones. */
    public static Task byName(String name) {
        Supplier<Task> task = BY_NAME.get(name);
        if (task == null) throw new IllegalArgumentException("unknown task '" + name + "', known tasks: " + names());
        return task.get();
    }

    /** Known task names, sorted. */
    public static Set<String> names() {
        return Collections.unmodifiableSet(BY_NAME.keySet());
    }
}

package dev.rlkafka.schemas;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The topic names of one run: the default names behind an optional prefix (e.g. {@code run42.}).
 *
 * <p>Services take their names from here only, so a prefix moves a whole run at once.
 *
 * @param prefix prepended to every default name; empty for the defaults
 */
public record Topics(String prefix) {
    public static final String PROMPTS = "rl.prompts";
    public static final String ROLLOUTS = "rl.rollouts";
    public static final String REWARDS = "rl.rewards";
    public static final String SCORED_GROUPS = "rl.scored-groups";
    public static final String POLICY_WEIGHTS = "rl.policy-weights";
    public static final String METRICS = "rl.metrics";
    public static final String DEAD_LETTERS = "rl.dead-letters";

    /** Kafka's limit on a topic name's length (see {@code org.apache.kafka.common.internals.Topic}). */
    static final int MAX_NAME_LENGTH = 249;
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]*");
    private static final int LONGEST_DEFAULT = List.of(PROMPTS, ROLLOUTS, REWARDS, SCORED_GROUPS,
            POLICY_WEIGHTS, METRICS, DEAD_LETTERS).stream().mapToInt(String::length).max().orElseThrow();

    /** The default names, no prefix. Declared after LEGAL and LONGEST_DEFAULT: the constructor reads them. */
    public static final Topics DEFAULT = new Topics("");

    public Topics {
        if (prefix == null) {
            throw new IllegalArgumentException("topic prefix must not be null (use \"\" for the default names)");
        }
        if (!LEGAL.matcher(prefix).matches()) {
            throw new IllegalArgumentException("topic prefix '" + prefix
                    + "' has characters Kafka does not allow in topic names; use only a-z A-Z 0-9 . _ -");
        }
        if (prefix.length() + LONGEST_DEFAULT > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("topic prefix '" + prefix + "' is " + prefix.length()
                    + " characters; with it, topic names would exceed Kafka's " + MAX_NAME_LENGTH);
        }
    }

    /** Names behind {@code prefix}; {@code ""} gives the defaults. */
    public static Topics withPrefix(String prefix) {
        return new Topics(prefix);
    }

    public String prompts() {
        return prefix + PROMPTS;
    }

    public String rollouts() {
        return prefix + ROLLOUTS;
    }

    public String rewards() {
        return prefix + REWARDS;
    }

    public String scoredGroups() {
        return prefix + SCORED_GROUPS;
    }

    public String policyWeights() {
        return prefix + POLICY_WEIGHTS;
    }

    public String metrics() {
        return prefix + METRICS;
    }

    public String deadLetters() {
        return prefix + DEAD_LETTERS;
    }

    /** Every topic of the run, in flow order. */
    public List<String> all() {
        return List.of(prompts(), rollouts(), rewards(), scoredGroups(), policyWeights(), metrics(), deadLetters());
    }

    /** The four topics that must share one partition count (a group's records meet in one Streams task). */
    public List<String> coPartitioned() {
        return List.of(prompts(), rollouts(), rewards(), scoredGroups());
    }
}

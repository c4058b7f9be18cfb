package dev.rlkafka.reward;

/**
 * An input the reward-service will not use: becomes one {@code DeadLetter}.
 *
 * @param errorType one of {@link GroupAssembly}'s error types, or {@code UNDECODABLE}
 * @param reason    what is wrong, naming the bad value, the group/rollout/scorer and the record's origin
 * @param origin    the rejected record; null when the rejection is about a whole group (a timeout)
 * @param groupId   the group concerned, or null when unknown
 */
record Rejection(String errorType, String reason, Origin origin, String groupId) {
    Rejection {
        if (errorType == null || reason == null) throw new IllegalArgumentException("errorType and reason must be set");
    }
}

package dev.rlkafka.reward;

import dev.rlkafka.reward.avro.ClosedGroup;
import dev.rlkafka.reward.avro.HeldReward;
import dev.rlkafka.reward.avro.PendingGroup;
import dev.rlkafka.reward.avro.PendingScore;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RecordCodec;
import org.apache.avro.util.ClassSecurityValidator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Bytes of the reward-service's own state (Avro single-object encoding of the internal records in
 * {@code src/main/avro}); rollouts inside it keep the topic contract's encoding.
 */
final class GroupStateCodec {
    /** The package avro-maven-plugin generates our internal records into. */
    static final String STATE_PACKAGE = "dev.rlkafka.reward.avro";
    private static final String STATE_TOPIC = "pending-groups";
    private static final RecordCodec<Rollout> ROLLOUTS = RecordCodec.of(Rollout.class);

    static {
        trustStatePackage();
    }

    private GroupStateCodec() {
    }

    static byte[] encode(GroupState group) {
        List<ByteBuffer> rollouts = new ArrayList<>();
        for (int index : group.rollouts().keySet()) {
            rollouts.add(ByteBuffer.wrap(group.encodedRollout(index, r -> ROLLOUTS.encode(STATE_TOPIC, r))));
        }
        List<PendingScore> scores = new ArrayList<>();
        group.scores().forEach((rolloutId, byScorer) -> byScorer.forEach(
                (scorerId, score) -> scores.add(new PendingScore(rolloutId, scorerId, score))));
        List<HeldReward> held = new ArrayList<>();
        for (GroupState.HeldReward h : group.held()) {
            Origin o = h.origin();
            held.add(new HeldReward(h.rolloutId(), h.scorerId(), o.topic(), o.partition(), o.offset(),
                    o.key() == null ? null : ByteBuffer.wrap(o.key()), o.value() == null ? null : ByteBuffer.wrap(o.value())));
        }
        PendingGroup pending = new PendingGroup(group.groupId(), group.firstSeenMs(), group.groupSize(),
                group.requiredCompleteMs(), rollouts, scores, held);
        try {
            return bytes(pending.toByteBuffer());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the pending state of group " + group.groupId(), e);
        }
    }

    /** Our own state: a failure here is a bug or a corrupt store, not bad input, so it throws. */
    static GroupState decode(byte[] bytes) {
        PendingGroup pending;
        try {
            pending = PendingGroup.fromByteBuffer(ByteBuffer.wrap(bytes));
        } catch (IOException e) {
            throw new IllegalStateException("store pending-groups holds " + bytes.length + " bytes that are not a PendingGroup", e);
        }
        var group = new GroupState(pending.getGroupId(), pending.getFirstSeenMs(), pending.getGroupSize(),
                pending.getRequiredCompleteMs());
        for (ByteBuffer r : pending.getRollouts()) group.putRollout(ROLLOUTS.decode(STATE_TOPIC, bytes(r)));
        List<HeldReward> held = pending.getHeld();
        for (PendingScore s : pending.getScores()) {
            Origin origin = null;
            for (HeldReward h : held) {
                if (h.getRolloutId().equals(s.getRolloutId()) && h.getScorerId().equals(s.getScorerId())) {
                    origin = new Origin(h.getTopic(), h.getPartition(), h.getOffset(),
                            h.getKey() == null ? null : bytes(h.getKey()), h.getValue() == null ? null : bytes(h.getValue()));
                }
            }
            group.putScore(s.getRolloutId(), s.getScorerId(), s.getScore(), origin);
        }
        return group;
    }

    static byte[] encode(ClosedGroup closed) {
        try {
            return bytes(closed.toByteBuffer());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + closed, e);
        }
    }

    static ClosedGroup decodeClosed(byte[] bytes) {
        try {
            return ClosedGroup.fromByteBuffer(ByteBuffer.wrap(bytes));
        } catch (IOException e) {
            throw new IllegalStateException("store closed-groups holds " + bytes.length + " bytes that are not a ClosedGroup", e);
        }
    }

    /**
     * Avro 1.12 instantiates only trusted classes (see schemas' {@code AvroTrust}); ours are added on top of
     * whatever predicate is in force.
     */
    private static synchronized void trustStatePackage() {
        if (ClassSecurityValidator.getGlobal().isTrusted(PendingGroup.class)) return;
        var previous = ClassSecurityValidator.getGlobal();
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(previous,
                type -> type.getName().startsWith(STATE_PACKAGE + ".")));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}

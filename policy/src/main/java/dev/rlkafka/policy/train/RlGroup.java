package dev.rlkafka.policy.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The rollouts of one prompt, as a batch holds them: GRPO and PPO train on every rollout, DPO on a pair of them. */
public record RlGroup(List<RlSample> rollouts) {

    /** Best and worst rollout of a group by reward: online DPO's preference pair. */
    public record PreferencePair(RlSample chosen, RlSample rejected) {
        public PreferencePair {
            if (!(chosen.reward() > rejected.reward())) {
                throw new IllegalArgumentException("the chosen rollout's reward " + chosen.reward()
                        + " must exceed the rejected one's " + rejected.reward());
            }
        }
    }

    public RlGroup {
        rollouts = List.copyOf(rollouts);
        if (rollouts.isEmpty()) throw new IllegalArgumentException("a group needs at least one rollout");
    }

    /**
     * The highest- and the lowest-reward rollout (the first of each when several share the reward); empty when
     * every rollout has the same reward, since a tie prefers nothing.
     */
    public Optional<PreferencePair> preferencePair() {
        RlSample best = rollouts.get(0), worst = rollouts.get(0);
        for (RlSample r : rollouts) {
            if (r.reward() > best.reward()) best = r;
            if (r.reward() < worst.reward()) worst = r;
        }
        return best.reward() > worst.reward() ? Optional.of(new PreferencePair(best, worst)) : Optional.empty();
    }

    /** Every rollout of every group, in order. */
    public static List<RlSample> rollouts(List<RlGroup> groups) {
        List<RlSample> all = new ArrayList<>();
        for (RlGroup g : groups) all.addAll(g.rollouts());
        return all;
    }
}

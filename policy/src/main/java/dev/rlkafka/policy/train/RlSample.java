package dev.rlkafka.policy.train;

/**
 * One rollout as the policy update sees it.
 *
 * @param promptTokens      prompt token ids, BOS first
 * @param completionTokens  sampled token ids (EOS included when the rollout stopped on it)
 * @param behaviourLogprobs log-prob of each sampled token when it was sampled (same length as completionTokens)
 * @param reward            the rollout's final reward R(x, y) (PPO's sequence reward, DPO's ranking)
 * @param advantage         the rollout's group advantage, e.g. (r − mean)/(std + ε) within its group (GRPO)
 * @param policyVersion     policy version that sampled it
 */
public record RlSample(int[] promptTokens, int[] completionTokens, float[] behaviourLogprobs, double reward, double advantage,
                       long policyVersion) {
    public RlSample {
        promptTokens = promptTokens.clone();
        completionTokens = completionTokens.clone();
        behaviourLogprobs = behaviourLogprobs.clone();
        if (promptTokens.length == 0) throw new IllegalArgumentException("promptTokens must not be empty");
        if (completionTokens.length == 0) throw new IllegalArgumentException("completionTokens must not be empty");
        if (behaviourLogprobs.length != completionTokens.length) {
            throw new IllegalArgumentException("behaviourLogprobs has " + behaviourLogprobs.length
                    + " entries for " + completionTokens.length + " completion tokens");
        }
        if (!Double.isFinite(reward)) throw new IllegalArgumentException("reward must be finite, got " + reward);
        if (!Double.isFinite(advantage)) throw new IllegalArgumentException("advantage must be finite, got " + advantage);
    }

    @Override
    public int[] promptTokens() {
        return promptTokens.clone();
    }

    @Override
    public int[] completionTokens() {
        return completionTokens.clone();
    }

    @Override
    public float[] behaviourLogprobs() {
        return behaviourLogprobs.clone();
    }
}

package dev.rlkafka.policy.task;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Multi-digit addition: the prompt is {@code "23+58="}, the completion the answer digits {@code "81"}
 * (the model emits EOS after them).
 *
 * <p><b>Room for RL.</b> Demonstrations are wrong on purpose in a fraction {@code demoErrorRate} of
 * cases (default {@value #DEFAULT_DEMO_ERROR_RATE}): the right answer followed by one stray digit
 * ({@code "81"} → {@code "817"}). A model that learns the demonstration distribution then samples a
 * wrong answer about that often at temperature 1, so SFT lands at 30–70 % sampled accuracy, while its
 * greedy answers are right: the sum itself is always demonstrated correctly, so SFT learns addition
 * as fast as on clean data (an earlier design changed one answer digit instead; half-noisy digits
 * delayed learning the carries past the SFT budget for some seeds). What RL has to learn is to stop
 * after the sum: a group of 8 at 50 % accuracy is all-right or all-wrong only 2·0.5⁸ ≈ 0.8 % of the
 * time, so exact-answer gives non-zero advantages and can lift sampled accuracy past 90 %.
 */
public final class ArithmeticTask implements Task {

    public static final String NAME = "arithmetic";
    public static final int DEFAULT_DIGITS = 2;
    public static final double DEFAULT_DEMO_ERROR_RATE = 0.5;
    public static final String EXACT_ANSWER = "exact-answer";
    public static final String FORMAT = "format";
    /** Small next to exact-answer's 1.0: it teaches "digits then stop" without paying for wrong sums. */
    public static final double FORMAT_WEIGHT = 0.1;

    private final int digits;
    private final double demoErrorRate;
    private final int minOperand;
    private final int maxOperand;
    private final List<Scorer> scorers;

    /** Two-digit operands, half the demonstrations wrong. */
    public ArithmeticTask() {
        this(DEFAULT_DIGITS, DEFAULT_DEMO_ERROR_RATE);
    }

    /**
     * @param digits        digits per operand, in [1, 6]; operands are uniform over that many digits
     * @param demoErrorRate fraction of demonstrations with a stray digit after the answer, in [0, 1]
     */
    public ArithmeticTask(int digits, double demoErrorRate) {
        if (digits < 1 || digits > 6) throw new IllegalArgumentException("digits must be in [1, 6], got " + digits);
        if (!(demoErrorRate >= 0 && demoErrorRate <= 1)) {
            throw new IllegalArgumentException("demoErrorRate must be in [0, 1], got " + demoErrorRate);
        }
        this.digits = digits;
        this.demoErrorRate = demoErrorRate;
        this.minOperand = digits == 1 ? 0 : (int) Math.pow(10, digits - 1);
        this.maxOperand = (int) Math.pow(10, digits) - 1;
        // a sum of two d-digit numbers has at most d+1 digits
        String answerForm = "\\d{1," + (digits + 1) + "}";
        this.scorers = List.of(
                new SimpleScorer(EXACT_ANSWER, 1.0, (p, c) -> c.strip().equals(p.referenceAnswer()) ? 1 : 0),
                // raw completion, not stripped: a stray space or newline is a format error
                new SimpleScorer(FORMAT, FORMAT_WEIGHT, (p, c) -> c.matches(answerForm) ? 1 : 0));
    }

    @Override
    public String name() {
        return NAME;
    }

    public int digits() {
        return digits;
    }

    public double demoErrorRate() {
        return demoErrorRate;
    }

    @Override
    public List<TaskPrompt> prompts(Split split, int count, long seed) {
        if (count < 0) throw new IllegalArgumentException("count must be >= 0, got " + count);
        Random rng = new Random(seed * 31 + split.ordinal());
        List<TaskPrompt> prompts = new ArrayList<>(count);
        while (prompts.size() < count) {
            int a = minOperand + rng.nextInt(maxOperand - minOperand + 1);
            int b = minOperand + rng.nextInt(maxOperand - minOperand + 1);
            if (Split.of(problemKey(a, b)) != split) continue;   // rejection: ~90 % / 10 % acceptance
            String id = "%s-%s-%d-%d".formatted(NAME, split.id(), seed, prompts.size());
            prompts.add(new TaskPrompt(id, a + "+" + b + "=", Integer.toString(a + b)));
        }
        return prompts;
    }

    /** The split of problem {@code a+b}. */
    public static Split splitOf(int a, int b) {
        return Split.of(problemKey(a, b));
    }

    private static long problemKey(int a, int b) {
        return ((long) a << 32) | b;
    }

    @Override
    public String demonstration(TaskPrompt prompt, Random rng) {
        String answer = prompt.referenceAnswer();
        if (rng.nextDouble() >= demoErrorRate) return answer;
        return answer + (char) ('0' + rng.nextInt(10));   // the right sum, then a stray digit
    }

    @Override
    public List<Scorer> scorers() {
        return scorers;
    }

    @Override
    public String toString() {
        return "ArithmeticTask[digits=" + digits + ", demoErrorRate=" + demoErrorRate + "]";
    }
}

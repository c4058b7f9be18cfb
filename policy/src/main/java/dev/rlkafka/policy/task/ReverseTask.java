package dev.rlkafka.policy.task;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Reverse a short lowercase word: the prompt is {@code "reverse cat="}, the completion {@code "tac"}.
 *
 * <p>Words are random letter strings, so no dictionary is needed and the problem space (~3·10⁸ words
 * of 3–6 letters) is far larger than any run. Unlike addition, the answer is a permutation of
 * prompt tokens, so it tests copying by position rather than carrying. Demonstrations are wrong
 * (one letter changed) in a fraction {@code demoErrorRate}, for the same reason as
 * {@link ArithmeticTask}. Besides exact-answer, a {@code char-overlap} scorer gives partial credit
 * per correct position, a denser signal for groups where no rollout is exactly right.
 */
public final class ReverseTask implements Task {

    public static final String NAME = "reverse";
    public static final int DEFAULT_MIN_LENGTH = 3;
    public static final int DEFAULT_MAX_LENGTH = 6;
    public static final double DEFAULT_DEMO_ERROR_RATE = 0.5;
    public static final String EXACT_ANSWER = "exact-answer";
    public static final String CHAR_OVERLAP = "char-overlap";
    /** Partial credit stays below exact-answer's 1.0 so a fully right answer always wins its group. */
    public static final double CHAR_OVERLAP_WEIGHT = 0.5;
    private static final String PREFIX = "reverse ";

    private final int minLength;
    private final int maxLength;
    private final double demoErrorRate;
    private final List<Scorer> scorers = List.of(
            new SimpleScorer(EXACT_ANSWER, 1.0, (p, c) -> c.strip().equals(p.referenceAnswer()) ? 1 : 0),
            new SimpleScorer(CHAR_OVERLAP, CHAR_OVERLAP_WEIGHT, (p, c) -> charOverlap(p.referenceAnswer(), c.strip())));

    public ReverseTask() {
        this(DEFAULT_MIN_LENGTH, DEFAULT_MAX_LENGTH, DEFAULT_DEMO_ERROR_RATE);
    }

    /**
     * @param minLength     shortest word, in [2, maxLength]
     * @param maxLength     longest word, in [minLength, 12] (keeps a key of 5 bits per letter in a long)
     * @param demoErrorRate fraction of demonstrations with one wrong letter, in [0, 1]
     */
    public ReverseTask(int minLength, int maxLength, double demoErrorRate) {
        if (minLength < 2) throw new IllegalArgumentException("minLength must be >= 2, got " + minLength);
        if (maxLength < minLength || maxLength > 12) {
            throw new IllegalArgumentException("maxLength must be in [minLength=" + minLength + ", 12], got " + maxLength);
        }
        if (!(demoErrorRate >= 0 && demoErrorRate <= 1)) {
            throw new IllegalArgumentException("demoErrorRate must be in [0, 1], got " + demoErrorRate);
        }
        this.minLength = minLength;
        this.maxLength = maxLength;
        this.demoErrorRate = demoErrorRate;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<TaskPrompt> prompts(Split split, int count, long seed) {
        if (count < 0) throw new IllegalArgumentException("count must be >= 0, got " + count);
        Random rng = new Random(seed * 31 + split.ordinal());
        List<TaskPrompt> prompts = new ArrayList<>(count);
        while (prompts.size() < count) {
            char[] word = new char[minLength + rng.nextInt(maxLength - minLength + 1)];
            for (int i = 0; i < word.length; i++) word[i] = (char) ('a' + rng.nextInt(26));
            String w = new String(word);
            if (splitOf(w) != split) continue;
            String id = "%s-%s-%d-%d".formatted(NAME, split.id(), seed, prompts.size());
            prompts.add(new TaskPrompt(id, PREFIX + w + "=", new StringBuilder(w).reverse().toString()));
        }
        return prompts;
    }

    /** The split of the problem "reverse {@code word}"; {@code word} is lowercase a–z, at most 12 letters. */
    public static Split splitOf(String word) {
        long key = 0;
        for (int i = 0; i < word.length(); i++) key = (key << 5) | (word.charAt(i) - 'a' + 1);   // 1..26: no collisions across lengths
        return Split.of(key);
    }

    @Override
    public String demonstration(TaskPrompt prompt, Random rng) {
        String answer = prompt.referenceAnswer();
        if (rng.nextDouble() >= demoErrorRate) return answer;
        char[] chars = answer.toCharArray();
        int position = rng.nextInt(chars.length);
        chars[position] = (char) ('a' + (chars[position] - 'a' + 1 + rng.nextInt(25)) % 26);   // any other letter
        return new String(chars);
    }

    /** Fraction of positions where the two strings agree, over the longer length; 1 for two empty strings. */
    static double charOverlap(String reference, String completion) {
        int longer = Math.max(reference.length(), completion.length());
        if (longer == 0) return 1;
        int same = 0;
        for (int i = 0; i < Math.min(reference.length(), completion.length()); i++) {
            if (reference.charAt(i) == completion.charAt(i)) same++;
        }
        return (double) same / longer;
    }

    @Override
    public List<Scorer> scorers() {
        return scorers;
    }

    @Override
    public String toString() {
        return "ReverseTask[length=" + minLength + ".." + maxLength + ", demoErrorRate=" + demoErrorRate + "]";
    }
}

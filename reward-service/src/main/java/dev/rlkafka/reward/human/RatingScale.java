package dev.rlkafka.reward.human;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The whole-number ratings a person may give, {@code min..max}, each one digit key on the page; a rating
 * becomes the reward {@code (rating − min) / (max − min)}, so every scale writes scores in [0, 1] like
 * the built-in scorers (the raw rating rides along in the reward's metadata).
 *
 * @param min lowest rating, 0..8
 * @param max highest rating, min+1..9 (one digit: the rating is also its keyboard shortcut)
 */
public record RatingScale(int min, int max) {
    public static final String DEFAULT = "1-5";
    private static final Pattern FORM = Pattern.compile("\\s*(\\d+)\\s*[-.]{1,2}\\s*(\\d+)\\s*");

    public RatingScale {
        if (min < 0 || max > 9 || min >= max) {
            throw new IllegalArgumentException("rating scale must be MIN-MAX with 0 <= MIN < MAX <= 9 (each rating is one digit key), got "
                    + min + "-" + max);
        }
    }

    /** {@code "1-5"} (or {@code "0..9"}) → the scale. */
    public static RatingScale parse(String text) {
        Matcher m = text == null ? null : FORM.matcher(text);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("rating scale must look like MIN-MAX, e.g. 1-5 or 0-9, got '" + text + "'");
        }
        return new RatingScale(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }

    public boolean contains(int rating) {
        return rating >= min && rating <= max;
    }

    /**
     * The reward of {@code rating}: its position on the scale, 0 for {@code min} and 1 for {@code max}.
     *
     * @throws IllegalArgumentException when the rating is off the scale
     */
    public double score(int rating) {
        if (!contains(rating)) {
            throw new IllegalArgumentException("rating " + rating + " is off the scale " + this);
        }
        return (double) (rating - min) / (max - min);
    }

    @Override
    public String toString() {
        return min + "-" + max;
    }
}

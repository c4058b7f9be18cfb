package dev.rlkafka.reward.human;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RatingScaleTest {
    @Test
    void aRatingMapsToItsPositionOnTheScale() {
        RatingScale scale = RatingScale.parse("1-5");
        assertEquals(0.0, scale.score(1));
        assertEquals(0.75, scale.score(4));
        assertEquals(1.0, scale.score(5));
        assertEquals(1.0 / 3, RatingScale.parse("0..3").score(1), 1e-12);
    }

    @Test
    void offScaleRatingsAndScalesThatAreNotOneDigitAreRejectedByValue() {
        var off = assertThrows(IllegalArgumentException.class, () -> RatingScale.parse("1-5").score(6));
        assertTrue(off.getMessage().contains("6") && off.getMessage().contains("1-5"), off.getMessage());
        var wide = assertThrows(IllegalArgumentException.class, () -> RatingScale.parse("1-10"));
        assertTrue(wide.getMessage().contains("1-10"), wide.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RatingScale.parse("5-1"));
        assertThrows(IllegalArgumentException.class, () -> RatingScale.parse("good-bad"));
    }
}

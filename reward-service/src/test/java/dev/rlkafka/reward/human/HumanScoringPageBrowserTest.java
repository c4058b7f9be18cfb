package dev.rlkafka.reward.human;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Reward;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

import static dev.rlkafka.reward.human.HumanFixtures.reward;
import static dev.rlkafka.reward.human.HumanFixtures.rollout;
import static dev.rlkafka.reward.human.HumanFixtures.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The human scoring page in a real headless Chromium driven through chromedriver (Debian's {@code chromium} and
 * {@code chromium-driver}): a person types their name, rates with the keyboard, and the reward lands on the topic;
 * a second browser never gets the same rollout. Leaves a screenshot in {@code target/human-scorer.png}.
 */
@ExtendWith(KafkaExtension.class)
class HumanScoringPageBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SCREENSHOT = Path.of("target", "human-scorer.png");
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path profiles;

    /** One headless Chromium with its own chromedriver and a fresh profile. */
    private static final class Browser implements AutoCloseable {
        final WebDriver driver;

        Browser(Path profile) {
            // the driver's path is given, so Selenium Manager never runs (it would try to download one)
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1280,1000", "--user-data-dir=" + profile.toAbsolutePath());
            driver = new ChromeDriver(service, options);
        }

        <T> T until(String what, Function<WebDriver, T> condition) {
            return new WebDriverWait(driver, WAIT).withMessage(what).until(condition);
        }

        /** Opens the page, enters the rater's name and waits for a rollout; returns its id. */
        String startRating(URI page, String rater) {
            driver.get(page.toString());
            WebElement name = until("the name field", d -> d.findElement(By.id("rater")));
            name.sendKeys(rater, Keys.ENTER);
            return shownRollout(rater + " sees a rollout");
        }

        String shownRollout(String what) {
            return until(what, d -> {
                WebElement rollout = d.findElement(By.id("rollout"));
                String id = rollout.getDomAttribute("data-rollout-id");
                return rollout.isDisplayed() && id != null && !id.isEmpty() ? id : null;
            });
        }

        void press(CharSequence... keys) {
            new Actions(driver).sendKeys(keys).perform();
        }

        String text(String id) {
            return driver.findElement(By.id(id)).getText();
        }

        boolean shows(String id) {
            return driver.findElement(By.id(id)).isDisplayed();
        }

        @Override
        public void close() {
            driver.quit();
        }
    }

    @Test
    void aRaterScoresByKeyboardAndASecondBrowserNeverGetsTheSameRollout(TestKafka kafka) throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and its driver (apt-get install chromium chromium-driver): "
                        + CHROMIUM + " and " + CHROMEDRIVER + " are not both there");
        Topics topics = HumanFixtures.freshTopics("human-page");
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 2, (short) 1);
        try (var producer = HumanFixtures.producer(kafka)) {
            send(producer, topics, rollout("g1", 0, 2, "12+30=", "42", 7));
            send(producer, topics, rollout("g1", 1, 2, "12+30=", "41", 7));
            send(producer, topics, reward("g1", "g1/0", "exact-answer", 1.0));
            send(producer, topics, reward("g1", "g1/0", "format", 1.0));
            send(producer, topics, reward("g1", "g1/1", "exact-answer", 0.0));
        }
        HumanScorerConfig config = HumanScorerConfig.defaults(kafka.bootstrapServers()).withTopics(topics)
                .withAddress("127.0.0.1", 0);

        try (HumanScorerService service = new HumanScorerService(config).start()) {
            HumanFixtures.await("both rollouts waiting", () -> service.stats().waiting() == 2, service::stats);
            try (Browser alice = new Browser(profiles.resolve("alice")); Browser bob = new Browser(profiles.resolve("bob"))) {
                String aliceRollout = alice.startRating(service.url(), "alice");
                String bobRollout = bob.startRating(service.url(), "bob");
                assertEquals("g1/0", aliceRollout, "the oldest waiting rollout");
                assertNotEquals(aliceRollout, bobRollout, "a second rater never gets a rollout someone holds");
                assertEquals("42", alice.text("completion"));
                assertEquals("7", alice.text("m-version"));
                assertTrue(alice.text("other-scores").contains("exact-answer"), alice.text("other-scores"));
                assertTrue(alice.text("k-rate").contains("1") && alice.text("k-rate").contains("5"), "the page shows the rating keys");

                alice.press("c");
                alice.press("correct: 12+30 is 42");
                alice.press(Keys.ESCAPE);
                alice.until("the stats line", d -> d.findElement(By.id("stats")).getText().contains("waiting") ? true : null);
                Files.createDirectories(SCREENSHOT.getParent());
                Path shot = ((ChromeDriver) alice.driver).getScreenshotAs(OutputType.FILE).toPath();
                Files.copy(shot, SCREENSHOT, StandardCopyOption.REPLACE_EXISTING);

                alice.press("4");
                alice.until("alice's rating saved", d -> alice.text("message").startsWith("Saved 4 for g1/0") ? true : null);
                List<ConsumerRecord<String, Reward>> rewards = HumanFixtures.rewardsOf(kafka, topics, "human", 1);
                Reward reward = rewards.get(0).value();
                assertEquals("g1", rewards.get(0).key(), "keyed by group id");
                assertEquals("g1/0", reward.getRolloutId());
                assertEquals(0.75, reward.getScore(), "rating 4 on 1-5");
                assertEquals("alice", reward.getMetadata().get(HumanScorerService.RATER));
                assertEquals("correct: 12+30 is 42", reward.getRationale());

                alice.until("alice has nothing left while bob holds g1/1", d -> alice.shows("empty") ? true : null);
                bob.press("s");
                bob.until("bob skipped g1/1 and has nothing left", d -> bob.shows("empty") ? true : null);
                assertEquals(bobRollout, alice.shownRollout("alice is offered the rollout bob skipped"));
                assertEquals(1, service.stats().ratedHere(), "one rating, written once");
            }
        }
    }
}

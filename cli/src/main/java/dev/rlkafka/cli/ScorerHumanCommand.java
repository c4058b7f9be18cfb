package dev.rlkafka.cli;

import dev.rlkafka.reward.human.HumanScorerConfig;
import dev.rlkafka.reward.human.HumanScorerService;
import dev.rlkafka.reward.human.RatingScale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** Serves the human scoring page until Ctrl-C. */
@Command(name = "human", mixinStandardHelpOptions = true,
        description = {
                "Serve a web page where people score rollouts. Each rollout waiting for this scorer's score is shown to "
                        + "one rater at a time (a lease; it expires if abandoned) with its prompt, completion, policy "
                        + "version, group and the other scorers' scores; a rating is refused once the rollout is rated. "
                        + "Keys: the digits of the scale rate, S skips, C opens the comment box.",
                "",
                "Each rating becomes a Reward on rl.rewards, keyed by group id, with this scorer id, score "
                        + "(rating - MIN) / (MAX - MIN) (so 1..5 gives 0, 0.25, 0.5, 0.75, 1), the comment as rationale, "
                        + "and metadata rater, rating, scale, source=human-page, service.",
                "",
                "No offsets are committed: at start the page reads rl.rewards from the beginning to learn which rollouts "
                        + "this scorer id already rated, then rl.rollouts from the beginning, and offers the rest: a restart "
                        + "asks for no rollout twice and loses none (except past --max-waiting). Undecodable rollouts go to "
                        + "rl.dead-letters (again at each start: nothing records that they were seen). For training "
                        + "to wait for people, register the scorer id with the reward-service and give it a --group-timeout "
                        + "long enough for a person.",
                ""})
final class ScorerHumanCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin KafkaOptions kafka;

    @Option(names = "--port", defaultValue = "" + HumanScorerConfig.DEFAULT_PORT,
            description = "TCP port of the page; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", defaultValue = HumanScorerConfig.DEFAULT_BIND_ADDRESS,
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only: the page has no login; "
                    + "0.0.0.0 lets raters on other machines in).")
    String bind;

    @Option(names = "--scorer-id", defaultValue = HumanScorerConfig.DEFAULT_SCORER_ID,
            description = "Scorer id of the rewards written (default: ${DEFAULT-VALUE}).")
    String scorerId;

    @Option(names = "--scale", defaultValue = RatingScale.DEFAULT, converter = ScaleConverter.class, paramLabel = "MIN-MAX",
            description = "Ratings people give, whole numbers MIN..MAX within 0..9, each its own digit key "
                    + "(default: ${DEFAULT-VALUE}). Reward = (rating - MIN) / (MAX - MIN), in [0, 1].")
    RatingScale scale;

    @Option(names = "--lease", defaultValue = "PT5M",
            description = "How long a shown rollout stays reserved for its rater before another rater may get it "
                    + "(ISO-8601, default: ${DEFAULT-VALUE}).")
    Duration lease;

    @Option(names = "--max-waiting", defaultValue = "" + HumanScorerConfig.DEFAULT_MAX_WAITING,
            description = "Most rollouts held waiting; past it the oldest unreserved one is dropped (default: ${DEFAULT-VALUE}).")
    int maxWaiting;

    @Override
    public Integer call() throws Exception {
        HumanScorerConfig config;
        try {
            config = HumanScorerConfig.defaults(kafka.bootstrap).withClientConfig(kafka.clientConfig()).withTopics(kafka.topics()).withScorerId(scorerId)
                    .withScale(scale).withAddress(bind, port).withLease(lease).withMaxWaiting(maxWaiting);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        CountDownLatch stop = new CountDownLatch(1);
        try (ShutdownSignal signal = new ShutdownSignal(stop::countDown);
             HumanScorerService service = new HumanScorerService(config, Clock.systemUTC(), stop::countDown).start()) {
            System.out.println("human scoring page for scorer '" + config.scorerId() + "' at " + service.url()
                    + " (Kafka " + config.bootstrap() + ", " + config.topics().rollouts() + " -> " + config.topics().rewards()
                    + "). Ctrl-C stops it.");
            stop.await();
            return service.failure().isPresent() ? 1 : 0;
        }
    }

    static final class ScaleConverter implements CommandLine.ITypeConverter<RatingScale> {
        @Override
        public RatingScale convert(String value) {
            try {
                return RatingScale.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}

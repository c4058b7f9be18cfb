package dev.rlkafka.reward.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A response body as UTF-8 text that fails with {@link TooLargeException} once it passes a size: a scorer's
 * answer is a few hundred bytes, and a runaway one (a judge echoing a document, an error page streamed
 * forever) must not fill the service's heap. A declared Content-Length over the size fails before any byte
 * is read.
 */
final class LimitedBody implements HttpResponse.BodySubscriber<String> {
    /** The body of a response larger than the limit; its bytes were not kept. */
    static final class TooLargeException extends IOException {
        final int status;

        TooLargeException(int status, long maxBytes, String what) {
            super("the answer's body is larger than " + maxBytes + " bytes (" + what + ")");
            this.status = status;
        }
    }

    private final int status;
    private final long maxBytes;
    private final long declaredBytes;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CompletableFuture<String> body = new CompletableFuture<>();
    private Flow.Subscription subscription;

    private LimitedBody(int status, long maxBytes, long declaredBytes) {
        this.status = status;
        this.maxBytes = maxBytes;
        this.declaredBytes = declaredBytes;
    }

    /** Bodies of at most {@code maxBytes}. */
    static HttpResponse.BodyHandler<String> handler(long maxBytes) {
        return info -> new LimitedBody(info.statusCode(), maxBytes, info.headers().firstValueAsLong("Content-Length").orElse(-1));
    }

    @Override
    public CompletionStage<String> getBody() {
        return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        if (declaredBytes > maxBytes) {
            tooLarge("Content-Length " + declaredBytes);
        } else {
            subscription.request(Long.MAX_VALUE);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        if (body.isDone()) return;
        for (ByteBuffer buffer : buffers) {
            if (bytes.size() + (long) buffer.remaining() > maxBytes) {
                tooLarge("over " + maxBytes + " bytes received");
                return;
            }
            byte[] chunk = new byte[buffer.remaining()];
            buffer.get(chunk);
            bytes.writeBytes(chunk);
        }
    }

    @Override
    public void onError(Throwable error) {
        body.completeExceptionally(error);
    }

    @Override
    public void onComplete() {
        body.complete(bytes.toString(StandardCharsets.UTF_8));
    }

    private void tooLarge(String what) {
        subscription.cancel();
        body.completeExceptionally(new TooLargeException(status, maxBytes, what));
    }
}

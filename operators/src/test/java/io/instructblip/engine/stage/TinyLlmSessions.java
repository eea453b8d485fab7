package io.instructblip.engine.stage;

import static io.instructblip.engine.stage.LlmTestSupport.openFixture;

import io.instructblip.engine.model.ModelSessions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The sessions of the tiny fixture LLMs (fp32 Vicuna and FlanT5, fp16 Vicuna) for a test class. */
abstract class TinyLlmSessions {
  static ModelSessions vicuna;
  static ModelSessions flant5;
  static ModelSessions vicunaFp16;

  @BeforeAll
  static void openSessions() {
    vicuna = openFixture("tiny-vicuna");
    flant5 = openFixture("tiny-flant5");
    vicunaFp16 = openFixture("tiny-vicuna-fp16");
  }

  @AfterAll
  static void closeSessions() {
    vicuna.close();
    flant5.close();
    vicunaFp16.close();
  }
}

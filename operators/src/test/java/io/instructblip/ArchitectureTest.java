package io.instructblip;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layer table of docs/design.md ("Layers you can see in the folder tree") as rules on the
 * compiled classes, so that a layer cannot be crossed by accident.
 */
class ArchitectureTest {
  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.instructblip");
  }

  @Test
  void theEngineKnowsNothingOfFlinkOrTheJob() {
    noClasses()
        .that()
        .resideInAPackage("io.instructblip.engine..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "org.apache.flink..", "io.instructblip.flink..", "io.instructblip.job..")
        .check(classes);
  }

  @Test
  void searchAndSchedulingArePlainArrays() {
    noClasses()
        .that()
        .resideInAPackage("io.instructblip.engine.generate..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "ai.onnxruntime..",
            "io.instructblip.engine.model..",
            "io.instructblip.engine.stage..",
            "io.instructblip.engine.inference..",
            "io.instructblip.engine.image..",
            "io.instructblip.engine.text..")
        .check(classes);
  }

  @Test
  void imagesAndTextKnowNoModels() {
    noClasses()
        .that()
        .resideInAnyPackage("io.instructblip.engine.image..", "io.instructblip.engine.text..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "ai.onnxruntime..",
            "io.instructblip.engine.model..",
            "io.instructblip.engine.stage..",
            "io.instructblip.engine.generate..",
            "io.instructblip.engine.inference..")
        .check(classes);
  }

  @Test
  void theOnnxStagesKnowNoSearchStrategies() {
    noClasses()
        .that()
        .resideInAPackage("io.instructblip.engine.stage..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.instructblip.engine.generate..", "io.instructblip.engine.inference..")
        .check(classes);
  }

  @Test
  void theModelLayerKnowsNoGenerationExceptItsDefaults() {
    noClasses()
        .that()
        .resideInAPackage("io.instructblip.engine.model..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.instructblip.engine.stage..",
            "io.instructblip.engine.inference..",
            "io.instructblip.engine.image..",
            "io.instructblip.engine.text..")
        .check(classes);
    noClasses()
        .that()
        .resideInAPackage("io.instructblip.engine.model..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.instructblip.engine.generate..")
        .because("generation belongs above the model layer")
        .check(classes);
  }

  @Test
  void engineSubpackagesDoNotUseTheFacade() {
    noClasses()
        .that()
        .resideInAPackage("io.instructblip.engine.(*)..")
        .should()
        .dependOnClassesThat()
        .haveFullyQualifiedName("io.instructblip.engine.InstructBlipEngine")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("io.instructblip.engine.EngineConfig")
        .check(classes);
  }

  /** The held-out evaluation reads files into requests and scores answers: it runs nothing. */
  @Test
  void theEvaluationKnowsOnlyRequestsAndAnswers() {
    noClasses()
        .that()
        .resideInAPackage("io.instructblip.engine.eval..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "ai.onnxruntime..",
            "io.instructblip.engine.stage..",
            "io.instructblip.engine.generate..",
            "io.instructblip.engine.inference..",
            "io.instructblip.engine.image..",
            "io.instructblip.engine.text..")
        .check(classes);
  }

  /**
   * The generic operators see stage functions only: of the engine they use the shared vocabulary
   * ({@code EngineException} to read a failure's code, {@code ErrorCode} in results), nothing else.
   */
  @Test
  void theGenericOperatorsKnowNoEngineInternals() {
    noClasses()
        .that()
        .resideInAPackage("io.instructblip.flink")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "ai.onnxruntime..",
            "io.instructblip.engine.model..",
            "io.instructblip.engine.stage..",
            "io.instructblip.engine.generate..",
            "io.instructblip.engine.inference..",
            "io.instructblip.engine.image..",
            "io.instructblip.engine.text..",
            "io.instructblip.flink.pipeline..")
        .orShould()
        .dependOnClassesThat()
        .haveFullyQualifiedName("io.instructblip.engine.InstructBlipEngine")
        .check(classes);
  }

  @Test
  void theInstructBlipStagesKnowNoOnnxDetails() {
    noClasses()
        .that()
        .resideInAPackage("io.instructblip.flink.pipeline..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("ai.onnxruntime..", "io.instructblip.engine.stage..")
        .check(classes);
  }
}

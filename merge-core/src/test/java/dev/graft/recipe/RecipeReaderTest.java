package dev.graft.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecipeReaderTest {
  static final String TIES =
      """
      merge_method: ties
      base_model: org/base@v1
      models:
        - model: ./ft-1
          parameters:
            weight: 0.5
            density: [0.2, 0.6, 1.0]
        - model: ft-2
          parameters:
            weight:
              - filter: self_attn
                value: 0.3
              - filter: mlp
                value: [0.1, 0.9]
              - value: 0.6
        - model: ft-3+my/lora
      parameters:
        normalize: true
        int8_mask: yes
      dtype: bfloat16
      out_dtype: float16
      tokenizer_source: base
      """;

  @Test
  void readsModelsFormWithEveryValueKind() {
    Recipe r = RecipeReader.parse(TIES, "t.yml").get(0);
    assertThat(r.mergeMethod()).isEqualTo("ties");
    assertThat(r.baseModel()).isEqualTo(new ModelRef("org/base@v1", null));
    assertThat(r.models()).hasSize(3);
    assertThat(r.models().get(2).model()).isEqualTo(new ModelRef("ft-3", "my/lora"));
    assertThat(r.models().get(0).parameters().get("weight")).isEqualTo(new ParamValue.Scalar(0.5));
    ParamValue g = r.models().get(0).parameters().get("density");
    assertThat(g).isEqualTo(new ParamValue.Gradient(List.of(0.2, 0.6, 1.0)));
    assertThat(((ParamValue.Gradient) g).at(0.25)).isCloseTo(0.4, org.assertj.core.data.Offset.offset(1e-12));
    ParamValue f = r.models().get(1).parameters().get("weight");
    assertThat(f.resolve("model.layers.3.self_attn.q_proj.weight", 0.5)).contains(0.3);
    assertThat((Double) f.resolve("model.layers.3.mlp.up_proj.weight", 0.5).orElseThrow()).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(f.resolve("model.norm.weight", 0)).contains(0.6);
    assertThat(r.parameters()).containsEntry("normalize", new ParamValue.Scalar(true)).containsEntry("int8_mask", new ParamValue.Scalar("yes"));
    assertThat(r.dtype()).isEqualTo("bfloat16");
    assertThat(r.outDtype()).isEqualTo("float16");
    assertThat(r.tokenizerSource()).isEqualTo("base");
  }

  @Test
  void filtersWithoutCatchAllFallThrough() {
    ParamValue f = new ParamValue.Filtered(List.of(new ParamValue.Condition("mlp", new ParamValue.Scalar(1.0))));
    assertThat(f.resolve("model.layers.0.self_attn.o_proj.weight", 0)).isEmpty();
    assertThat(new ParamValue.Gradient(List.of(1.0, 3.0)).at(1)).isEqualTo(3.0);
    assertThat(new ParamValue.Gradient(List.of(7.0)).at(0.3)).isEqualTo(7.0);
  }

  @Test
  void readsSlicesAndStages() {
    String text =
        """
        name: first
        merge_method: passthrough
        slices:
          - sources:
              - model: a
                layer_range: [0, 4]
          - sources:
              - model: b
                layer_range: [2, 6]
                parameters: {scale: 0.5}
            parameters: {scale: 1.0}
        ---
        merge_method: linear
        models:
          - model: first
            parameters: {weight: 1}
          - model: c
            parameters: {weight: 2}
        """;
    List<Recipe> rs = RecipeReader.parse(text, "s.yml");
    assertThat(rs).hasSize(2);
    assertThat(rs.get(0).name()).isEqualTo("first");
    assertThat(rs.get(0).slices()).hasSize(2);
    Recipe.SliceSource s = rs.get(0).slices().get(1).sources().get(0);
    assertThat(s.start()).isEqualTo(2);
    assertThat(s.end()).isEqualTo(6);
    assertThat(s.parameters()).containsEntry("scale", new ParamValue.Scalar(0.5));
    assertThat(rs.get(1).referencedModels()).extracting(ModelRef::name).containsExactly("first", "c");
  }

  @Test
  void writeThenReadGivesTheSameRecipe() {
    List<Recipe> rs = RecipeReader.parse(TIES, "t.yml");
    String written = RecipeWriter.write(rs);
    assertThat(RecipeReader.parse(written, "w.yml")).isEqualTo(rs);
    String slices = """
        merge_method: slerp
        base_model: a
        slices:
          - sources:
              - {model: a, layer_range: [0, 2]}
              - {model: b, layer_range: [0, 2]}
        parameters:
          t:
            - filter: "0.5"
              value: [0, 0.5, 1]
            - value: 0.5
        """;
    List<Recipe> s = RecipeReader.parse(slices, "s.yml");
    assertThat(RecipeReader.parse(RecipeWriter.write(s), "w.yml")).isEqualTo(s);
  }

  @Test
  void reportsEveryProblemWithPosition() {
    String text =
        """
        merge_method: ties
        base_model: base
        modles:
          - model: a
        models:
          - model: a
            parameters: {weight: [0.5, oops]}
          - parameters: {weight: 1}
          - model: c
            model: d
        parameters:
          weight: {a: 1}
        """;
    assertThatThrownBy(() -> RecipeReader.parse(text, "bad.yml"))
        .isInstanceOf(RecipeException.class)
        .satisfies(e -> {
          List<Problem> ps = ((RecipeException) e).problems();
          assertThat(ps).extracting(Problem::format).anySatisfy(m -> assertThat(m).startsWith("bad.yml:3:1 modles: unknown key 'modles'").contains("Did you mean 'models'?"));
          assertThat(ps).extracting(Problem::format).anySatisfy(m -> assertThat(m).startsWith("bad.yml:7:32 models[0].parameters.weight[1]: a gradient holds numbers only"));
          assertThat(ps).extracting(Problem::format).anySatisfy(m -> assertThat(m).startsWith("bad.yml:8:5 models[1]: missing 'model'"));
          assertThat(ps).extracting(Problem::format).anySatisfy(m -> assertThat(m).startsWith("bad.yml:10:5 models[2].model: duplicate key"));
          assertThat(ps).extracting(Problem::format).anySatisfy(m -> assertThat(m).startsWith("bad.yml:12:11 parameters.weight: expected a number"));
          assertThat(ps).hasSize(5);
        });
  }

  @Test
  void syntaxErrorsAndSchemaErrors() {
    assertThatThrownBy(() -> RecipeReader.parse("merge_method: [linear\n", "x.yml"))
        .isInstanceOf(RecipeException.class).hasMessageContaining("x.yml:2:1").hasMessageContaining("invalid YAML");
    assertThatThrownBy(() -> RecipeReader.parse("", "e.yml")).hasMessageContaining("the recipe is empty");
    assertThatThrownBy(() -> RecipeReader.parse("merge_method: linear\n", "m.yml")).hasMessageContaining("missing 'models' or 'slices'");
    assertThatThrownBy(() -> RecipeReader.parse("merge_method: linear\nmodels: [a]\nslices: []\n", "b.yml")).hasMessageContaining("either 'models' or 'slices'");
    assertThatThrownBy(() -> RecipeReader.parse("merge_method: passthrough\nslices:\n  - sources:\n      - {model: a, layer_range: [4, 2]}\n", "r.yml"))
        .hasMessageContaining("r.yml:4:33").hasMessageContaining("end 2 is before start 4");
    assertThatThrownBy(() -> RecipeReader.parse("merge_method: linear\nmodels: [a]\ntokenizer: {source: union, pad_to_multiple_of: 0}\ntokenizer_source: base\n", "t.yml"))
        .hasMessageContaining("mutually exclusive").hasMessageContaining("t.yml:3:48").hasMessageContaining("pad_to_multiple_of must be a positive integer, found '0'");
    Recipe padded = RecipeReader.parse("merge_method: linear\nmodels: [a]\ntokenizer: {pad_to_multiple_of: 64}\n", "p.yml").get(0);
    assertThat(padded.padToMultipleOf()).isEqualTo(64);
    assertThat(padded.tokenizerSource()).isEqualTo("union");
    assertThat(RecipeWriter.write(padded)).contains("pad_to_multiple_of: 64");
    assertThat(RecipeReader.parse(RecipeWriter.write(padded), "again.yml").get(0).padToMultipleOf()).isEqualTo(64);
    assertThat(RecipeReader.parse("merge_method: linear\nmodels: [a, b]\n", "p.yml").get(0).models()).hasSize(2);
    assertThat(Map.of()).isEmpty();
  }
}

"""The lecture notes' claims, audited: one machine-readable ledger, and the check the notebooks call.

The workbook follows a Korean study note of CS231n's lecture *Image Classification with CNNs*: the velog post
"[CV] CS231N 5강 정리 [Image Classification with CNNs]" by 김성윤 (Jack), 9 September 2025 (:data:`NOTES_SOURCE`).
The notes are not part of the workbook; the ledger keeps short verbatim quotes of them with that attribution.
:data:`CLAIMS` lists every claim it makes: the notes' own words (a short verbatim quote), the claim in
English, the notebook that measures it, what is measured, and a verdict, one of :data:`VERDICTS`.
``source`` says whether the claim is the lecture's or, as far as the public outline of the lecture shows,
the note-taker's addition (section 4's transformer comparison, texture bias and part-whole structure).

A notebook checks a claim where it measures it::

    check_claim("C38", relative_response_at_45, below=0.25)

which asserts that the measured number is on the side the verdict says, and prints two short lines a learner
can read: what the notes say, then the measurement and what it means for the claim, with a claim's caveat in
its own words, for example::

    C38 the notes say: A vertical-line filter detects vertical lines well but not a line tilted by 45 degrees.
        measured 0.1177 (< 0.25), so this claim of the notes holds, with a caveat:
        the response fades gradually (more than half at 15 degrees), and a 2-px line still gets about half at 45 degrees

``note_claim("C15")`` prints why a claim is not testable here.
``python -m cnnbook claims`` prints the ledger as a table, ``--json`` as JSON.

The data is English. In the Korean edition (:func:`cnnbook.course.language.get_language` is ``"ko"``) the checks
print and raise in Korean, and ``claims --lang ko`` shows the Korean ledger: :func:`ledger_text` looks each
English text (a claim, what is measured, a verdict, a source, one of :data:`MESSAGES`) up in
``locale/ko/claims.po``, whose msgids are exactly :func:`ledger_texts`; ids, numbers and code stay as they are.
"""
from __future__ import annotations

from dataclasses import dataclass

from cnnbook.course.language import LANGUAGES, catalog, get_language
from cnnbook.layers.checks import number

NOTES_SOURCE = {
    "title": "[CV] CS231N 5강 정리 [Image Classification with CNNs]",
    "author": "김성윤 (Jack)",
    "date": "2025-09-09",
    "site": "velog",
    "url": "https://velog.io/search?q=CS231N%205%EA%B0%95%20%EC%A0%95%EB%A6%AC%20Image%20Classification%20with%20CNNs",
    "lecture": "https://cs231n.stanford.edu/",
}
"""Where the quotes in :data:`CLAIMS` come from: the study note the workbook follows, and the course it notes."""

NOTES_ENV = "CNNBOOK_LECTURE_NOTES"
"""The environment variable naming a local copy of the notes' full text (a file), for checking every quote."""

VERDICTS = ("holds", "holds with a caveat", "does not hold", "not testable here")
"""The four verdicts a claim can get."""

SOURCES = ("lecture", "note-taker")
"""Where a claim comes from: the lecture, or the note-taker's addition."""

EVIDENCE = ("measured", "illustrated")
"""How a notebook supports a claim: a measurement that could disagree with the claim, or an illustration (the
number follows from the code's construction or from arithmetic, so it shows the claim without testing it)."""

JSON_KEYS = ("id", "notes", "claim", "notebook", "measured", "verdict", "evidence")
"""The keys of each object in ``python -m cnnbook claims --json``."""

NB01 = "01-five-step-recipe.ipynb"
NB02 = "02-from-linear-to-neural-nets.ipynb"
NB03 = "03-convolution.ipynb"
NB04 = "04-stride-padding-output-size.ipynb"
NB05 = "05-receptive-field.ipynb"
NB06 = "06-pooling.ipynb"
NB08 = "08-training-a-cnn.ipynb"
NB09 = "09-equivariance-invariance-sharing.ipynb"
NB10 = "10-cnn-vs-transformer.ipynb"
NB11 = "11-cnn-limitations.ipynb"
NB12 = "12-questions-and-answers.ipynb"


@dataclass(frozen=True)
class Claim:
    """One claim of the notes. ``section`` is the notes' section (1-5); ``source`` one of :data:`SOURCES`."""

    id: str
    section: int
    source: str
    notes: str
    claim: str
    notebook: str
    measured: str
    verdict: str
    evidence: str = "measured"

    def caveat(self, lang: str | None = None) -> str:
        """The caveat of a claim that holds with one, in ``lang``: the ``measured`` text after ``Caveat:``
        (Korean ``주의:``); ``""`` for a claim without one."""
        text = ledger_text(self.measured, lang)
        for marker in CAVEAT_MARKERS:
            if marker in text:
                return text.split(marker, 1)[1].strip()
        return ""

    def as_dict(self, lang: str = "en") -> dict:
        """The claim as the JSON object of ``python -m cnnbook claims --json`` (keys :data:`JSON_KEYS`).

        ``lang="ko"`` gives ``claim`` and ``measured`` in Korean; the keys stay the same, and ``verdict`` stays one
        of :data:`VERDICTS` in every language, so that programs reading the JSON can rely on it.
        """
        row = {key: getattr(self, key) for key in JSON_KEYS}
        for key in ("claim", "measured"):
            row[key] = ledger_text(row[key], lang)
        return row


def _c(id, section, source, notebook, verdict, notes, claim, measured, evidence="measured"):
    return Claim(id, section, source, notes, claim, notebook, measured, verdict, evidence)


HOLDS, CAVEAT, FAILS, UNTESTABLE = VERDICTS
CAVEAT_MARKERS = ("Caveat: ", "주의: ")  # where a ``measured`` text's caveat starts, in English and Korean
LECTURE, ADDED = SOURCES

CLAIMS = (
    # 1. The deep-learning recipe and the linear classifier's limit
    _c("C01", 1, LECTURE, NB01, CAVEAT,
       "딥러닝은 어떤 문제든 5단계로 해결할 수 있습니다.",
       "Any deep-learning problem is solved in five steps: tensors, architecture, data, loss, optimisation.",
       "the five steps carried out once, on Fashion-MNIST: the linear classifier's test accuracy (chance 0.1) "
       "must exceed 0.78. Caveat: one problem is shown; 'any problem' is a slogan, not a measurement"),
    _c("C02", 1, LECTURE, NB01, HOLDS,
       "역전파(Backpropagation)로 기울기를 계산하고, 경사 하강법(Gradient Descent)으로 손실을 줄여나가며",
       "Backpropagation computes the gradients and gradient descent lowers the loss with them.",
       "mean training loss of the last 100 gradient steps, starting from ln 10 = 2.30: must be below 0.6 "
       "(the hand-written gradients match numerical ones to 1e-7)"),
    _c("C03", 1, LECTURE, NB01, CAVEAT,
       "선형 분류기는 각 클래스마다 하나의 템플릿만 학습하기 때문에, "
       "같은 고양이라도 다양한 모습(자세, 색상)을 인식하지 못했습니다.",
       "A linear classifier learns one template per class, so it fails on a class that comes in several appearances.",
       "test accuracy lost when every class comes in two modes (moved 5 px left or right) with one template per "
       "class: must exceed 0.02, and two templates per class must win some back. Caveat: it loses accuracy, it "
       "does not fail to recognise the class"),
    _c("C04", 1, LECTURE, NB02, CAVEAT,
       "신경망은 여러 계층과 비선형 활성화 함수를 통해 훨씬 더 복잡하고 유연한 표현을 학습할 수 있습니다.",
       "Layers with nonlinear activations learn far more complex and flexible representations.",
       "test accuracy gained by a two-layer ReLU network over the linear classifier with the same data and "
       "training: must exceed 0.01; without the ReLU the two layers are one linear map. Caveat: the gain is a few "
       "points here, not 'far more'"),
    # 2. CNNs "see" images
    _c("C05", 2, LECTURE, NB02, CAVEAT,
       "이미지를 길게 펼친 1차원 벡터로 만들기 때문에, "
       "픽셀 간의 중요한 공간적 구조(spatial structure) 정보가 파괴됩니다.",
       "A fully connected net flattens the image into a vector, which destroys its spatial structure.",
       "change of the two-layer MLP's test accuracy when one fixed permutation shuffles the pixels: must stay "
       "within 0.02. Caveat: flattening destroys no information (it is a reshape); the net is blind to pixel "
       "order. And 'FCN' usually means a fully convolutional network"),
    _c("C06", 2, LECTURE, NB02, HOLDS,
       "이 문제를 해결하기 위해 등장한, 이미지 처리에 특화된 신경망입니다.",
       "The CNN is a network specialised for images: it uses which pixels are neighbours.",
       "test accuracy a small CNN loses when the pixels are permuted (the MLP loses none): must exceed 0.025"),
    _c("C07", 2, LECTURE, NB03, HOLDS,
       "작은 필터(filter) 또는 커널(kernel)이 이미지 위를 훑고 지나가면서(sliding window) 특징을 포착합니다.",
       "A small filter slides over the image (a sliding window) and picks up features.",
       "largest difference between conv2d_forward and dot products of the filter with single patches: must be "
       "below 1e-4 (float32 rounding)"),
    _c("C08", 2, LECTURE, NB01, CAVEAT,
       "입력: 이미지를 3차원 텐서(높이 x 너비 x 채널) 형태 그대로 받습니다.",
       "The input is the image as it is, a 3-D tensor of height x width x channels.",
       "a photo file is (H, W, C); layers here and in PyTorch take a batch (N, C, H, W): the transposed array "
       "holds the same numbers (largest difference must be 0). Caveat: channels come first, not last",
       evidence="illustrated"),
    _c("C09", 2, LECTURE, NB03, CAVEAT,
       "이는 그 부분과 필터(템플릿)가 얼마나 닮았는지를 측정하는 것과 같습니다.",
       "The dot product measures how much a patch looks like the filter (a template).",
       "distance in pixels between the peak of an eye template's activation map and where the patch was cut: "
       "must be 0. Caveat: the dot product also grows with contrast; once another patch has twice its contrast the "
       "map peaks there, and only the normalised correlation still peaks at the eye"),
    _c("C10", 2, LECTURE, NB03, HOLDS,
       "필터가 이미지 전체를 훑고 지나가며 계산한 결과들을 모아놓은 2차원 평면입니다.",
       "An activation map is the 2-D plane of one filter's results over the whole image.",
       "share of the image's pixels read by at least one window of one filter's map (the gradient of the map's sum "
       "with every weight 1): must be 1; the map has 2 axes, (H - K + 1, W - K + 1)"),
    _c("C11", 2, LECTURE, NB03, HOLDS,
       "여러 개의 필터를 사용하면, 그 수만큼의 활성화 맵이 쌓여 새로운 3차원 텐서가 출력됩니다.",
       "With several filters, one activation map per filter is stacked into a new 3-D tensor.",
       "largest difference between each channel of the output of 5 filters and that filter's map computed alone: "
       "must be below 1e-5, an output volume (1, 5, 94, 142)"),
    # 3. Building blocks and hyperparameters
    _c("C12", 3, LECTURE, NB08, HOLDS,
       "일반적으로 [CONV -> RELU -> POOL]과 같은 블록을 여러 겹 쌓아서",
       "Stacking [CONV -> RELU -> POOL] blocks and a fully connected layer at the end classifies images.",
       "test accuracy of [CONV-RELU-POOL] x 2 + FC after a few epochs on the bundled Fashion-MNIST: must be at "
       "least 0.85 (and beat the two-layer MLP trained as in notebook 02)"),
    _c("C13", 3, LECTURE, NB08, HOLDS,
       "필터의 값들은 사람이 정하는 게 아니라, "
       "무작위로 초기화된 후 경사 하강법을 통해 데이터로부터 자동으로 학습됩니다.",
       "Filter values are not set by people: they start random and are learned from data by gradient descent.",
       "size of what training changed in the random first-layer filters, relative to their start: must exceed 0.05"),
    _c("C14", 3, LECTURE, NB08, CAVEAT,
       "첫 번째 계층의 필터들은 주로 색상 대비나 특정 방향의 엣지(edge)처럼 단순한 특징을 학습하고",
       "First-layer filters learn simple features such as colour contrast and oriented edges.",
       "neighbour correlation (cnnbook.models.measures) of what training added to the first-layer filters, minus "
       "that of the random start: must exceed 0.1 (smoother: ramps and blobs). Caveat: grey 28 x 28 images and a "
       "short run; no colour to contrast, and no clean oriented edges are claimed (colour images: C60, C61)"),
    _c("C15", 3, LECTURE, NB08, UNTESTABLE,
       "더 깊은 계층으로 갈수록 눈, 텍스트, 원과 같이 더 복잡하고 추상적인 특징을 학습하게 됩니다.",
       "Deeper layers learn more complex, abstract features such as eyes, text and circles.",
       "not measured: a two-stage CNN on 28 x 28 clothing has no eyes or text to learn; the lecture shows it "
       "with visualisations of large ImageNet networks"),
    _c("C16", 3, LECTURE, NB04, HOLDS,
       "스트라이드가 1보다 크면 출력의 크기가 작아지는 다운샘플링(downsampling) 효과가 있습니다.",
       "A stride above 1 makes the output smaller: it downsamples.",
       "products the same filter sums with stride 1 per product with stride 2, counted by running both on an image "
       "of ones: must lie between 3.8 and 4.2; the stride-2 map is every second value of the stride-1 map"),
    _c("C17", 3, LECTURE, NB04, HOLDS,
       "이를 방지하기 위해 입력 이미지의 가장자리에 0과 같은 값을 채워 넣는 것입니다.",
       "Padding the border with zeros keeps a convolution from shrinking the output.",
       "width of a 28 x 28 image after running three 3x3 convolutions with padding 1: must stay 28 (22 without "
       "padding)"),
    _c("C18", 3, LECTURE, NB04, CAVEAT,
       "\\frac{(W - K + 2P)}{S} + 1",
       "Output size = (W - K + 2P) / S + 1.",
       "output sizes of the package's convolution for strides 1, 2 and 4 that disagree with the formula or with the "
       "window positions counted by sliding a window along each side: must be 0 (also per side on the non-square "
       "129 x 193 input with a 3x5 kernel). Caveat: when S does not divide W - K + 2P there is no whole answer; "
       "PyTorch floors it and ignores the last rows and columns"),
    _c("C19", 3, LECTURE, NB05, HOLDS,
       "출력 맵의 한 픽셀에 영향을 미치는 입력 이미지의 영역입니다.",
       "A receptive field is the region of the input that affects one pixel of the output map.",
       "input pixels with a nonzero gradient of one output unit, minus the computed receptive field's area: must "
       "be 0 (and none outside it)"),
    _c("C20", 3, LECTURE, NB05, CAVEAT,
       "층을 깊게 쌓고, 스트라이드를 사용하면 수용장이 기하급수적으로 넓어져서",
       "Stacking layers and using stride makes the receptive field grow exponentially.",
       "field found by the input gradient of one unit after 1 to 8 layers of 3x3: with stride 1 it grows 2 px per "
       "layer to 17 (linear); with stride 2 at every layer it reaches 2^9 - 1 = 511, and the last layer's field over "
       "the one before must exceed 1.9 (geometric). Caveat: depth alone grows it linearly; strides that recur make it "
       "geometric (every layer here; a stride every other layer roughly doubles it every two layers)"),
    _c("C21", 3, LECTURE, NB05, CAVEAT,
       "네트워크의 후반부에서는 이미지 전체의 맥락을 파악할 수 있게 됩니다.",
       "Late layers of the network see the context of the whole image.",
       "receptive field of VGG-16's last convolution, found by the input gradient of a central unit of a "
       "VGG-16-shaped stack on a 224-px input: 196 px, a share of the side between 0.8 and 1. Caveat: most of the "
       "image, not all of it; and at random initialisation half of the gradient's magnitude lies within 77 px "
       "(the effective receptive field)"),
    _c("C22", 3, LECTURE, NB06, HOLDS,
       "특징 맵의 크기를 줄이는 또 다른 방법입니다. 계산량을 줄이고",
       "Pooling is another way to shrink feature maps, and it cuts computation.",
       "multiply-adds of the next 3x3 convolution (64 -> 64 channels, padding 1) after a 2x2 max pool of a 56 x 56 "
       "map, as a fraction of those without, counted by running the convolution on ones (inputs and weights 1, bias 0; "
       "products with the zero padding count 0): must lie between 0.24 and 0.26"),
    _c("C23", 3, LECTURE, NB06, CAVEAT,
       "모델을 좀 더 강건하게(robust) 만들어줍니다.",
       "Pooling makes the model more robust.",
       "relative change of edge features after a one-pixel shift: smaller after 2x2 and smaller again after 4x4 "
       "max pooling, where it must be below 0.6 of the unpooled change for every shift. Caveat: small shifts "
       "only; notebook 08's CNN still loses more than 0.15 of its test accuracy on 3-px shifts"),
    _c("C24", 3, LECTURE, NB06, CAVEAT,
       "맥스 풀링 (Max Pooling): 특정 영역에서 가장 큰 값(가장 강한 신호)만 남기는 방식으로, 가장 널리 쓰입니다.",
       "Max pooling keeps only the largest value of each window, and it is the most widely used pooling.",
       "largest difference between 2x2 max pooling of a 4x4 map and its windows' maxima: must be 0. Caveat: "
       "'most widely used' is not measured here"),
    # 4. Deeper topics (equivariance is in the lecture's outline; the rest is the note-taker's)
    _c("C25", 4, LECTURE, NB09, CAVEAT,
       "이미지 속 고양이가 왼쪽으로 이동하면, "
       "CNN 내부의 특징 맵(feature map)에 나타나는 '고양이 특징'도 똑같이 왼쪽으로 이동합니다.",
       "When the object moves, its features in the CNN's feature maps move the same way (translation equivariance).",
       "largest |f(shift(x)) - shift(f(x))| of a stride-1 conv + ReLU away from the borders, shifts 0..6: must be "
       "below 1e-6. Caveat: after 2x2 pooling or stride 2, odd shifts err by more than a tenth of the largest "
       "feature; and '번역 등변성' mistranslates translation (평행이동 등변성)"),
    _c("C26", 4, LECTURE, NB09, CAVEAT,
       "이미지 속 고양이의 위치가 바뀌어도, 최종 출력은 여전히 '고양이'라고 나와야 합니다.",
       "Translation invariance is the goal: the prediction should not change when the object moves.",
       "mean accuracy lost on test images shifted 1-3 px by a CNN with global pooling, as a fraction of what a "
       "two-layer MLP loses: must be below 0.5. Caveat: the CNN is nearly, not exactly, invariant"),
    _c("C67", 4, ADDED, NB09, HOLDS,
       "등변성이 강력한 이유: 파라미터 공유 (Parameter Sharing)",
       "Equivariance and parameter sharing go together: what makes equivariance powerful is parameter sharing.",
       "free weights of the linear maps of 4 x 4 images (shifts wrapping around) that commute with every shift, "
       "found as a null space: must be 16 of 256, one per offset, and every such map uses the same weights at "
       "every position (largest deviation from sharing below 1e-9): for a linear layer, equivariance and sharing "
       "are the same condition"),
    _c("C27", 4, ADDED, NB09, CAVEAT,
       "등변성 덕분에 CNN은 이미지의 특정 위치에서 '고양이 귀'를 감지하는 필터를 한 번만 학습하면 됩니다.",
       "Thanks to equivariance, a CNN learns the 'cat ear' filter only once.",
       "shift error of a locally connected layer (the conv's windows, no sharing), relative to its largest output: "
       "must exceed 0.1, where the conv's is 0; with one filter copied to every position it is 0 again, so an "
       "equivariant layer has one filter. Caveat: neither is the cause of the other; for a linear layer they "
       "are the same condition (C67), and a CNN is exactly equivariant only at stride 1 (C25)"),
    _c("C28", 4, ADDED, NB09, HOLDS,
       "만약 완전 연결 신경망(FCN)이었다면, 이미지의 왼쪽 위 귀, 오른쪽 위 귀, "
       "중앙의 귀를 감지하기 위해 각각 별도의 파라미터를 모두 학습해야 했을 것입니다.",
       "A fully connected network would need separate parameters for an ear at each position.",
       "accuracy lost on test images shifted 1-3 px by a model whose first layer is locally connected (unshared), "
       "minus that of the same model with a conv layer: must be positive; the conv as a dense matrix repeats one "
       "3x3 filter at every position"),
    _c("C29", 4, ADDED, NB09, CAVEAT,
       "하나의 필터(파라미터 셋)를 이미지 전체에 공유해서 사용하는 "
       "파라미터 공유는 CNN을 엄청나게 효율적이고 강력하게 만드는 핵심적인 메커니즘입니다.",
       "Sharing one filter over the whole image is the key mechanism that makes CNNs efficient and powerful.",
       "parameters of a layer with 16 output maps on 28 x 28: fully connected 9,847,040, locally connected "
       "125,440, conv 160: locality saves x78, sharing x784. Mean test accuracy over shifts of -3..3 px of the "
       "global-pooling CNN minus the same CNN with an unshared first layer: must be positive. Caveat: two "
       "savings, and locality is one of them; on centred images the unshared model (11x the parameters) is "
       "more accurate"),
    _c("C30", 4, ADDED, NB10, HOLDS,
       "이미지에서 중요한 정보는 주변 픽셀들과 밀접하게 관련되어 있다",
       "A CNN builds in the assumption that what matters in an image is tied to neighbouring pixels.",
       "outputs of the CNN's first layer that change farther than 1 px from a patch that was changed: must be 0",
       evidence="illustrated"),
    _c("C31", 4, ADDED, NB10, HOLDS,
       "층을 깊게 쌓아가면서 이들을 조합해 더 복잡하고 전역적(global)인 "
       "특징을 이해하는 상향식(bottom-up) 구조를 가집니다.",
       "Stacking layers, a CNN combines local features into more global ones, bottom-up.",
       "receptive field of the reference CNN layer by layer, found by backpropagating from a centre unit (input "
       "pixels with a nonzero gradient, over 20 images): must grow at every layer (3, 4, 8, 10 px)"),
    _c("C32", 4, ADDED, NB10, HOLDS,
       "이 편향은 매우 효과적이어서, 비교적 적은 데이터로도 빠르게 좋은 성능을 낼 수 있습니다.",
       "This bias is so effective that a CNN does well with relatively little data.",
       "CNN minus ViT test accuracy with 200 training images after the same 125 Adam steps (same parameter "
       "count), mean over three seeds minus two standard deviations: must be positive (with the steps each model "
       "needs: C37)"),
    _c("C33", 4, ADDED, NB10, HOLDS,
       "비전 트랜스포머(ViT)는 이미지를 여러 개의 패치(patch)로 나눈 뒤, 이 패치들을 문장의 단어처럼 취급합니다.",
       "A ViT cuts the image into patches and treats them like the words of a sentence.",
       "largest difference between patchify + one matrix and the ViT's tokens: must be below 1e-5"),
    _c("C34", 4, ADDED, NB10, HOLDS,
       "처음부터 이미지의 모든 패치가 다른 모든 패치와 어떤 관계를 맺고 있는지를 한 번에 계산합니다.",
       "Self-attention relates every patch to every other patch from the first layer.",
       "mean attention distance of the trained ViT's first layer, in patches of 7 px: must exceed 1 (uniform "
       "attention gives 2); that every token changes in block 1 when one patch changes holds by construction"),
    _c("C35", 4, ADDED, NB10, FAILS,
       "이러한 방식은 지역성에 대한 가정이 없기 때문에",
       "A ViT makes no assumption of locality.",
       "tokens of the other 15 patches that change after the patch embedding when the top-left patch changes: "
       "must be 0. The embedding is a 7x7 convolution shared by all patches, and the MLP is shared across "
       "tokens; the difference from a CNN is global attention from block 1", evidence="illustrated"),
    _c("C36", 4, ADDED, NB10, UNTESTABLE,
       "데이터가 충분히 많을 경우 CNN이 놓칠 수 있는 "
       "장거리 의존성(long-range dependency)을 더 잘 학습하여 뛰어난 성능을 보일 수 있습니다.",
       "With enough data a ViT learns long-range dependencies a CNN misses and can do better.",
       "not measured: the ViT overtook ResNets only after pre-training on 14-300 million images (Dosovitskiy et "
       "al. 2021); the bundled data stops at 12,000"),
    _c("C37", 4, ADDED, NB10, CAVEAT,
       "이미지의 기본적인 공간 구조를 배우기 위해 CNN보다 훨씬 더 많은 데이터를 필요로 합니다.",
       "A ViT needs much more data than a CNN to learn the basic spatial structure of images.",
       "sizes (200, 1,000, 4,000 images) at which the CNN's test accuracy exceeds the ViT's when each model gets "
       "the steps it needs (one seed: on 1,000 and 4,000 images training goes on until held-out accuracy stops "
       "rising, at most 625 steps; on 200 the 125 steps fit both above 0.9 training accuracy): must be all three. "
       "Caveat: tiny models trained for at most 625 steps; how much more data is not measured"),
    _c("C38", 4, ADDED, NB11, CAVEAT,
       "수직선 필터는 수직선만 잘 감지할 뿐, 45도 기울어진 선은 잘 감지하지 못합니다.",
       "A vertical-line filter detects vertical lines well but not a line tilted by 45 degrees.",
       "largest response of a vertical-line filter (three columns -1, 2, -1) to a thin line (1 px) at 45 degrees, "
       "relative to a vertical line: must be below 0.25 (a horizontal line gives about 0). Caveat: the response "
       "fades gradually (more than half at 15 degrees), and a 2-px line still gets about half at 45 degrees"),
    _c("C39", 4, ADDED, NB11, CAVEAT,
       "이 때문에 CNN은 객체의 회전(rotation), 크기 변화(scale), 시점 변화에 강건하지 못합니다.",
       "So CNNs are not robust to rotation, scale and viewpoint changes.",
       "test accuracy a CNN trained on upright images loses at 90 degrees: must exceed 0.4 (at half size: 0.3). "
       "Caveat: viewpoint is not tested"),
    _c("C40", 4, ADDED, NB11, CAVEAT,
       "방대한 양의 데이터 증강(data augmentation)에 의존해야만 합니다.",
       "Covering these changes needs heavy data augmentation.",
       "spread (max - min) of accuracy over angles with random-rotation augmentation, as a fraction of the "
       "spread without: must be below 1/3; upright accuracy drops. Caveat: this shows that augmentation is "
       "enough, not that it is needed: rotation-equivariant CNNs build rotated filters into the layers instead"),
    _c("C41", 4, ADDED, NB11, CAVEAT,
       "CNN은 객체의 전체적인 형태(shape)보다 부분적인 질감(texture)에 더 의존하여 판단하는 경향이 있습니다.",
       "CNNs tend to decide by local texture rather than by global shape.",
       "cue conflict: fraction of answers that follow the texture, for a CNN with an 8-px receptive field trained "
       "where texture and shape agree: must exceed 0.6. Caveat: the design makes it likely (no unit sees a whole "
       "shape); the controls in notebook 11 report what changes"),
    _c("C42", 4, ADDED, NB11, CAVEAT,
       "이는 CNN이 지역적인 패턴을 조합하는 방식으로 작동하기 때문에 발생하는 한계로",
       "Texture bias arises because CNNs work by combining local patterns.",
       "test accuracy of the CNN with 8-px units, trained and tested on texture-randomised shapes (shape is the "
       "only cue; chance 0.25): must be below 0.4. Caveat: the data is a cause too: a CNN with a 38-px "
       "theoretical field follows texture or shape as its training data says (Geirhos et al. 2019 found the same)"),
    _c("C43", 4, ADDED, NB11, CAVEAT,
       "얼굴의 파츠들이 뒤죽박죽 섞여 있는 비현실적인 이미지도 '얼굴'로 인식하는 실수를 저지를 수 있습니다.",
       "A CNN may call an image with jumbled face parts a face.",
       "fraction of scrambled faces (3 x 3 tiles shuffled) that a global-pooling CNN still calls 'face': must "
       "exceed 0.8. Caveat: a small model with global pooling, whose units see 8 px of 24"),
    # 5. Q&A
    _c("C44", 5, LECTURE, NB12, CAVEAT,
       "처음에는 무작위 값으로 초기화된 후, 역전파와 경사 하강법을 통해 데이터로부터 자동으로 학습됩니다.",
       "Filters start random and are learned from data by backpropagation and gradient descent.",
       "neighbour correlation of the first-layer 5x5 filters after 188 steps: must exceed 0.4 (below 0.2 at the "
       "start). Caveat: the initial weights were scaled down tenfold so that a short run shows it"),
    _c("C45", 5, LECTURE, NB12, FAILS,
       "각 필터가 어떤 특징을 감지할지는 전적으로 데이터와 손실 함수에 의해 결정됩니다.",
       "What each filter detects is decided entirely by the data and the loss.",
       "same data, loss and training, only the start differs: the smallest difference between two filters "
       "after training is 0 from identical starts and must exceed 0.1 from random ones, so the initialisation "
       "decides too"),
    _c("C46", 5, LECTURE, NB12, CAVEAT,
       "교차 검증(cross-validation)을 통해 최적의 값을 찾습니다.",
       "Hyperparameters are found by cross-validation (or taken from earlier work).",
       "|test accuracy of the setting chosen by 3-fold cross-validation - its cross-validation estimate|: must be "
       "below 0.05. Caveat: the best settings lie within about one standard deviation, so 'the optimum' is not "
       "well defined; earlier work: C63"),
    _c("C64", 5, LECTURE, NB04, HOLDS,
       "필터 크기, 개수, 스트라이드, 패딩 등은 모두 하이퍼파라미터입니다. "
       "이는 모델이 학습하는 값이 아니라, 연구자가 직접 설정해야 하는 값입니다.",
       "Filter size, number of filters, stride and padding are hyperparameters: set by people, not learned.",
       "settings of a conv layer (kernel size, filters, stride, padding) that a training step changes: must be 0, "
       "while its weights and bias change; gradient descent has no gradient for them (by construction)",
       evidence="illustrated"),
    _c("C47", 5, LECTURE, NB12, HOLDS,
       "여러 크기의 필터를 동시에 적용한 후 그 결과(활성화 맵)를 합쳐서 다음 계층으로 전달하는 구조입니다.",
       "One layer can apply filters of several sizes and concatenate their maps (Inception).",
       "different receptive-field sizes among the 20 output channels of an Inception-style block (1x1, 3x3, 5x5 "
       "and pool branches), found by backpropagating from a centre unit of each channel: must be 3 (1, 3, 5 px)"),
    _c("C48", 5, LECTURE, NB12, CAVEAT,
       "이를 통해 모델이 다양한 스케일의 특징을 한 번에 포착할 수 있습니다.",
       "So the model captures features of several scales at once.",
       "test accuracy of the Inception-style layer minus a plain 3x3 layer with the same parameter count: must be "
       "below 0.02. Caveat: possible, but no better on 28 x 28 clothing"),
    _c("C49", 5, LECTURE, NB12, CAVEAT,
       "만약 모든 필터를 똑같은 값으로 초기화하면, "
       "역전파 과정에서 계산되는 그래디언트도 모두 같아져서 결국 모든 필터가 똑같은 특징을 학습하게 됩니다.",
       "Filters initialised identically get identical gradients and all learn the same feature.",
       "largest difference between two of 8 identically initialised filters after 2 epochs, relative to the filters' "
       "size: must be below 1e-4 (rounding only; BLAS libraries may round equal rows differently). Caveat: only "
       "because the next layer's weights were identical too; with a random classifier the same filters drift apart"),
    _c("C50", 5, LECTURE, NB12, HOLDS,
       "무작위 초기화는 이러한 대칭성을 깨뜨리는 중요한 역할을 합니다.",
       "Random initialisation breaks this symmetry.",
       "test accuracy of random initialisation minus identical initialisation: must exceed 0.02 (every pair of "
       "filters differs)"),
    _c("C51", 5, LECTURE, NB06, HOLDS,
       "맥스 풀링(Max Pooling)은 최댓값을 고르는 비선형(non-linear) 연산입니다.",
       "Max pooling, which picks the maximum, is nonlinear.",
       "largest |pool(p + q) - pool(p) - pool(q)| of 2x2 max pooling on random maps: must exceed 0.5"),
    _c("C52", 5, LECTURE, NB06, HOLDS,
       "반면 평균 풀링(Average Pooling)은 선형(linear) 연산이므로",
       "Average pooling is linear.",
       "the same for 2x2 average pooling: must be below 1e-5"),
    _c("C53", 5, LECTURE, NB12, HOLDS,
       "따라서 맥스 풀링 주변에는 ReLU를 굳이 사용하지 않는 경우도 있습니다.",
       "So networks sometimes leave out the ReLU around max pooling (but not around average pooling).",
       "additivity gap of conv -> max pool -> conv without any ReLU: must exceed 0.1 (nonlinear), where conv -> "
       "average pool -> conv gives below 1e-5 (one linear map)"),
    _c("C54", 2, LECTURE, NB03, HOLDS,
       "5x5처럼 작은 크기의 필터가 이미지의 한 부분과 내적(dot product) 연산을 수행합니다.",
       "A small filter such as 5x5 takes a dot product with one part of the image.",
       "products summed into each output value of a 5x5 filter on a 32x32x3 image, counted by the convolution "
       "itself (inputs and weights 1, bias 0): must be 5 * 5 * 3 = 75 (the filter spans all channels); six "
       "such filters give 28x28x6 and 6 * (75 + 1) = 456 parameters (nn.summary)"),
    _c("C55", 5, LECTURE, NB06, CAVEAT,
       "비선형성을 추가하기 위해 주변에 ReLU를 함께 사용하는 것이 좋습니다.",
       "Average pooling is linear, so a ReLU should go around it to add nonlinearity.",
       "test accuracy of [conv -> ReLU -> avgpool] x 2 -> linear minus the same stack without ReLU (exactly one "
       "linear map M x + c), 6,000 bundled training images, 2 epochs: must exceed 0.01. Caveat: after so short "
       "a run the gain is small; the linear stack is a linear classifier and still learns"),
    _c("C60", 3, LECTURE, NB12, CAVEAT,
       "첫 번째 계층의 필터들은 주로 색상 대비나",
       "First-layer filters learn colour contrast (on colour images).",
       "share of sixteen 5x5x3 first-layer filters that are colour-opponent (two channels with cosine below -0.5), "
       "trained two epochs on colour patches of six photos, minus the same share at initialisation: must exceed 0.3. "
       "Caveat: initial weights scaled down tenfold, not normal practice; at the usual scale two epochs show less"),
    _c("C61", 3, LECTURE, NB12, CAVEAT,
       "특정 방향의 엣지(edge)처럼 단순한 특징을 학습하고",
       "First-layer filters learn edges of particular orientations (on colour images).",
       "mean orientation strength (structure-tensor coherence of the grey component, 1 for a straight edge) of "
       "the same filters trained minus at initialisation: must exceed 0.1. Caveat: the same small run"),
    _c("C62", 4, ADDED, NB08, CAVEAT,
       "층을 깊게 쌓아가면서 이들을 조합해 더 복잡하고 전역적(global)인 특징을 이해하는",
       "Stacked layers combine local features into more complex, global ones.",
       "median held-out R^2 of a linear template of the receptive field predicting a unit's output, conv1 minus "
       "conv2 of notebook 08's CNN: must exceed 0.1 (conv2 units see 8 x 8 pixels, conv1 units 3 x 3). Caveat: "
       "two layers on clothing; 'complex' measured as 'less linear'"),
    _c("C63", 5, LECTURE, NB12, CAVEAT,
       "보통은 기존에 좋은 성능을 보인 다른 연구들의 설정을 참고하거나",
       "Hyperparameters are often taken from earlier work that did well.",
       "3-fold cross-validation accuracy of the best of filter size {3, 5, 7} x padding {0, same} minus that of "
       "earlier work's 3x3, stride 1, padding 1: must be below 0.03 (and within two fold standard deviations). "
       "Caveat: one small data set; a good start, not the optimum"),
)
"""Every claim of the notes, in the notes' order."""

_BY_ID = {c.id: c for c in CLAIMS}

MESSAGES = {
    "said": "{id} the notes say: {claim}",
    "measured": "measured {value} ({needs})",
    "illustrated": "an illustration, not a measurement: {value} ({needs}) by construction",
    "holds": "{evidence}, so this claim of the notes holds.",
    "caveat": "{evidence}, so this claim of the notes holds, with a caveat:",
    "fails": "{evidence}, so this claim of the notes does not hold.",
    "failed": "{id} ({verdict} in the ledger): measured {value}, which is not {needs}. Claim: {claim} "
              "Measured: {measured}",
    "noted": "{id} {verdict}: {claim} ({measured})",
    "both": "{above} and {below}",
    "unknown": "unknown claim id {given}; the ledger has {first} .. {last} (python -m cnnbook claims lists them)",
    "untestable": "{id} is marked '{verdict}' in the ledger; call note_claim({call})",
    "no_threshold": "check_claim({call}, ...) needs a threshold: above=..., below=... or both",
    "testable": "{id} has the verdict '{verdict}'; check it with check_claim({call}, measured, above=..., below=...)",
    "notebook": "notebook",
    "source": "source",
    "verdict": "verdict",
    "claim": "claim",
    "evidence": "evidence",
    "summary": "{n} claims: {counts}",
    "evidence_summary": "checked by a measurement: {measured}; shown by an illustration only: {illustrated}",
    "count": "{n} {verdict}",
}
"""The templates of what the checks print and raise and of the command's table (``{fields}`` as ``str.format``)."""


def ledger_texts() -> list[str]:
    """Every English text the ledger shows, once each: the claims and what each measures (in ledger order), the
    verdicts, the sources and :data:`MESSAGES`. ``locale/ko/claims.po`` holds exactly these msgids."""
    texts = [text for c in CLAIMS for text in (c.claim, c.measured)] + [*VERDICTS, *SOURCES, *EVIDENCE,
                                                                         *MESSAGES.values()]
    return list(dict.fromkeys(texts))


def ledger_text(text: str, lang: str | None = None) -> str:
    """The ledger's English ``text`` in ``lang`` (default: the language in use); English where it has no translation.

    Unlike :func:`cnnbook.course.language.tr` this fills in nothing: ledger texts may hold braces (``{3, 5, 7}``).
    """
    lang = get_language() if lang is None else lang
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: choose one of {', '.join(map(repr, LANGUAGES))}")
    return catalog(lang).get(text, text)


def _say(key: str, **values) -> str:
    """Message ``key`` of :data:`MESSAGES` in the language in use, filled in."""
    return ledger_text(MESSAGES[key]).format(**values)


def get_claim(claim_id: str) -> Claim:
    """The :class:`Claim` with this id; ``ValueError`` naming the known ids for an unknown one."""
    if not isinstance(claim_id, str) or claim_id not in _BY_ID:
        raise ValueError(_say("unknown", given=repr(claim_id), first=CLAIMS[0].id, last=CLAIMS[-1].id))
    return _BY_ID[claim_id]


def check_claim(claim_id: str, measured, *, above=None, below=None) -> None:
    """Check claim ``claim_id`` against a measured number, and print the verdict with it.

    ``above`` / ``below`` are the thresholds the ledger's ``measured`` text names (strict: ``measured > above``,
    ``measured < below``; give one or both). The thresholds encode the verdict: for a claim that does not hold,
    they say where the measurement lies that contradicts it. Raises ``AssertionError`` naming the claim when
    the measurement is on the wrong side. Returns nothing, so that a notebook cell ending in a check shows only
    the printed line.
    """
    claim = get_claim(claim_id)
    if claim.verdict == UNTESTABLE:
        raise ValueError(_say("untestable", id=claim_id, verdict=ledger_text(UNTESTABLE), call=repr(claim_id)))
    if above is None and below is None:
        raise ValueError(_say("no_threshold", call=repr(claim_id)))
    value = number(float(measured) if hasattr(measured, "item") else measured, "measured")
    conditions = []
    if above is not None:
        conditions.append((value > number(above, "above"), f"> {above:.4g}"))
    if below is not None:
        conditions.append((value < number(below, "below"), f"< {below:.4g}"))
    texts = [text for _, text in conditions]
    needs = texts[0] if len(texts) == 1 else _say("both", above=texts[0], below=texts[1])
    verdict, said = ledger_text(claim.verdict), ledger_text(claim.claim)
    if not all(ok for ok, _ in conditions):
        raise AssertionError(_say("failed", id=claim_id, verdict=verdict, value=f"{value:.4g}", needs=needs,
                                  claim=said, measured=ledger_text(claim.measured)))
    print(claim_lines(claim, f"{value:.4g}", needs))


def claim_lines(claim: Claim, value: str, needs: str) -> str:
    """What :func:`check_claim` prints for a measurement that is where the ledger says: the notes' claim, then the
    measured value and what it means for the claim, then a caveat in its own words (each line short)."""
    indent = " " * (len(claim.id) + 1)
    key = {HOLDS: "holds", CAVEAT: "caveat", FAILS: "fails"}[claim.verdict]
    evidence = _say(claim.evidence, value=value, needs=needs)
    lines = [_say("said", id=claim.id, claim=ledger_text(claim.claim)), indent + _say(key, evidence=evidence)]
    if claim.verdict == CAVEAT:
        lines.append(indent + claim.caveat())
    return "\n".join(lines)


def note_claim(claim_id: str) -> None:
    """Print why claim ``claim_id`` (verdict ``not testable here``) is not measured."""
    claim = get_claim(claim_id)
    if claim.verdict != UNTESTABLE:
        raise ValueError(_say("testable", id=claim_id, verdict=ledger_text(claim.verdict), call=repr(claim_id)))
    print(_say("noted", id=claim_id, verdict=ledger_text(claim.verdict), claim=ledger_text(claim.claim),
               measured=ledger_text(claim.measured)))


def evidence_counts() -> dict:
    """``{evidence: number of checked claims}`` for each of :data:`EVIDENCE` (claims not testable here left out)."""
    return {e: sum(c.evidence == e and c.verdict != UNTESTABLE for c in CLAIMS) for e in EVIDENCE}


def verdict_counts() -> dict:
    """``{verdict: number of claims}`` for every verdict, in :data:`VERDICTS` order."""
    return {v: sum(c.verdict == v for c in CLAIMS) for v in VERDICTS}

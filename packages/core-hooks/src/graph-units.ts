// Splits a tfjs-layers model (Sequential or functional) into units at its single-tensor cuts.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { layerForwardFlops } from './layer-flops.js';
import type { Unit, UnitApplyOptions } from './units.js';

// The parts of tfjs-layers' graph we read. They are public fields in the .d.ts of Container and Node.
interface SymbolicTensorLike {
  readonly id: number;
}
interface GraphNode {
  readonly outboundLayer: tfl.layers.Layer;
  readonly inputTensors: SymbolicTensorLike[];
  readonly outputTensors: SymbolicTensorLike[];
  readonly callArgs?: Record<string, unknown>;
}
interface GraphContainer {
  readonly inputs: SymbolicTensorLike[];
  readonly outputs: SymbolicTensorLike[];
  readonly nodesByDepth: Record<string, GraphNode[]>;
}

/** Nodes in execution order: tfjs-layers gives depth = longest distance to the output. */
function executionOrder(model: GraphContainer): GraphNode[] {
  const depths = Object.keys(model.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a);
  return depths
    .flatMap((depth) => model.nodesByDepth[depth] ?? [])
    .filter((node) => node.outboundLayer.getClassName() !== 'InputLayer');
}

/**
 * Indices i such that after running nodes[0..i] exactly one tensor is live: every path from the input
 * to the output passes through it (an articulation point), so the model can be cut there.
 */
function cutPositions(nodes: GraphNode[], inputId: number, outputId: number): number[] {
  const remainingUses = new Map<number, number>();
  for (const node of nodes) {
    for (const t of node.inputTensors) remainingUses.set(t.id, (remainingUses.get(t.id) ?? 0) + 1);
  }
  // The model input is live until its last consumer ran: branches straight off the input are no cut.
  const live = new Set<number>([inputId]);
  const cuts: number[] = [];
  nodes.forEach((node, index) => {
    for (const t of node.inputTensors) {
      const left = remainingUses.get(t.id)! - 1;
      remainingUses.set(t.id, left);
      if (left === 0 && t.id !== outputId) live.delete(t.id);
    }
    for (const t of node.outputTensors) {
      if ((remainingUses.get(t.id) ?? 0) > 0 || t.id === outputId) live.add(t.id);
    }
    if (live.size === 1) cuts.push(index);
  });
  return cuts;
}

class GraphSegmentUnit implements Unit {
  readonly variables: tf.Variable[];
  readonly stateVariables: tf.Variable[];
  readonly forwardFlops: number;
  private readonly layers: tfl.layers.Layer[];

  constructor(
    readonly name: string,
    private readonly nodes: GraphNode[],
    private readonly inputId: number,
    private readonly outputId: number,
  ) {
    this.layers = [...new Set(nodes.map((node) => node.outboundLayer))];
    this.variables = this.layers.flatMap((layer) =>
      layer.trainableWeights.map((weight) => weight.read() as tf.Variable),
    );
    this.stateVariables = this.layers.flatMap((layer) =>
      layer.nonTrainableWeights.map((weight) => weight.read() as tf.Variable),
    );
    this.forwardFlops = this.layers.reduce((sum, layer) => sum + layerForwardFlops(layer), 0);
  }

  apply(input: tf.Tensor, options: UnitApplyOptions): tf.Tensor {
    const values = new Map<number, tf.Tensor>([[this.inputId, input]]);
    for (const node of this.nodes) {
      const inputs = node.inputTensors.map((t) => values.get(t.id)!);
      const output = node.outboundLayer.apply(inputs.length === 1 ? inputs[0]! : inputs, {
        ...node.callArgs,
        training: options.training,
      }) as tf.Tensor | tf.Tensor[];
      const outputs = Array.isArray(output) ? output : [output];
      node.outputTensors.forEach((t, i) => values.set(t.id, outputs[i]!));
    }
    return values.get(this.outputId)!;
  }

  regularizationLosses(): tf.Scalar[] {
    return this.layers.flatMap((layer) => layer.calculateLosses());
  }
}

/**
 * Units of a tfjs-layers model: segments between single-tensor cuts, each weightless segment merged
 * into the unit before it (or, at the very front, the one after it). For a Sequential model this is
 * "a layer with weights plus the weightless layers after it"; a residual block becomes one unit.
 */
export function unitsFromLayersModel(model: tfl.LayersModel): Unit[] {
  const graph = model as unknown as GraphContainer;
  // An uncompiled Sequential builds its inner graph lazily.
  if (Object.keys(graph.nodesByDepth ?? {}).length === 0 && 'build' in model) {
    (model as unknown as { build(): void }).build();
  }
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) {
    throw new Error('trainhooks: only single-input, single-output models can be split into units');
  }
  const nodes = executionOrder(graph);
  const outputId = graph.outputs[0]!.id;
  const cuts = cutPositions(nodes, graph.inputs[0]!.id, outputId);
  if (cuts[cuts.length - 1] !== nodes.length - 1) cuts.push(nodes.length - 1);

  type Segment = { nodes: GraphNode[]; inputId: number; outputId: number; hasWeights: boolean };
  const segments: Segment[] = [];
  let start = 0;
  let inputId = graph.inputs[0]!.id;
  for (const cut of cuts) {
    const segmentNodes = nodes.slice(start, cut + 1);
    const segmentOutput = segmentNodes[segmentNodes.length - 1]!.outputTensors[0]!.id;
    const hasWeights = segmentNodes.some((node) => node.outboundLayer.weights.length > 0);
    segments.push({ nodes: segmentNodes, inputId, outputId: segmentOutput, hasWeights });
    inputId = segmentOutput;
    start = cut + 1;
  }

  const merged: Segment[] = [];
  for (const segment of segments) {
    const previous = merged[merged.length - 1];
    if (previous && (!segment.hasWeights || !previous.hasWeights)) {
      previous.nodes.push(...segment.nodes);
      previous.outputId = segment.outputId;
      previous.hasWeights ||= segment.hasWeights;
    } else {
      merged.push({ ...segment, nodes: [...segment.nodes] });
    }
  }
  return merged.map(
    (segment) =>
      new GraphSegmentUnit(
        segment.nodes.map((node) => node.outboundLayer.name).join('+'),
        segment.nodes,
        segment.inputId,
        segment.outputId,
      ),
  );
}
